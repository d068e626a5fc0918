{{/* Names and labels shared by every object of the chart. */}}
{{- define "dwb.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "dwb.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* The standard app.kubernetes.io labels of a component (bff, saga-worker, relay, projector, migrations). */}}
{{- define "dwb.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "dwb.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/component: {{ .component }}
app.kubernetes.io/part-of: durable-workflow-backend
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
{{- end -}}

{{- define "dwb.selectorLabels" -}}
app.kubernetes.io/name: {{ include "dwb.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "dwb.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag }}
{{- end -}}

{{/* Secret config of one component: each variable from its Secret, by the component's own key if it has one. */}}
{{- define "dwb.secretEnv" -}}
{{- $component := .component -}}
{{- range $name, $ref := .root.Values.secretEnv }}
{{- $key := get ($ref.keys | default dict) $component | default $ref.key }}
{{- if $key }}
- name: {{ $name }}
  valueFrom:
    secretKeyRef:
      name: {{ $ref.secretName }}
      key: {{ $key }}
{{- end }}
{{- end }}
{{- end -}}

{{/* The probes of a process: HTTP on its port, or (shared host network) the same check run in the container. */}}
{{- define "dwb.probes" -}}
{{- $p := .process.probes -}}
{{- range $kind, $path := dict "liveness" $p.liveness "readiness" $p.readiness }}
{{ $kind }}Probe:
  {{- if eq $p.type "exec" }}
  exec:
    command: ["node", "dist/runtime/probe.main.js", {{ $path | quote }}]
  {{- else }}
  httpGet:
    path: {{ $path }}
    port: http
  {{- end }}
  periodSeconds: 10
  timeoutSeconds: 5
  failureThreshold: {{ if eq $kind "liveness" }}6{{ else }}3{{ end }}
{{- end }}
startupProbe:
  {{- if eq $p.type "exec" }}
  exec:
    command: ["node", "dist/runtime/probe.main.js", {{ $p.liveness | quote }}]
  {{- else }}
  httpGet:
    path: {{ $p.liveness }}
    port: http
  {{- end }}
  periodSeconds: 2
  timeoutSeconds: 5
  failureThreshold: 60
{{- end -}}

{{/* A Deployment of one process (the BFF or a worker). */}}
{{- define "dwb.deployment" -}}
{{- $root := .root -}}
{{- $process := .process -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "dwb.fullname" $root }}-{{ .component }}
  labels:
    {{- include "dwb.labels" . | nindent 4 }}
spec:
  {{- if not (and .keda .keda.enabled) }}
  replicas: {{ $process.replicas }}
  {{- end }}
  revisionHistoryLimit: 5
  strategy:
    type: RollingUpdate
    rollingUpdate: { maxSurge: 1, maxUnavailable: 0 }
  selector:
    matchLabels:
      {{- include "dwb.selectorLabels" . | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "dwb.selectorLabels" . | nindent 8 }}
      annotations:
        checksum/config: {{ print (include (print $root.Template.BasePath "/configmap.yaml") $root) (include (print $root.Template.BasePath "/files.yaml") $root) | sha256sum }}
    spec:
      serviceAccountName: {{ include "dwb.fullname" $root }}
      automountServiceAccountToken: false
      hostNetwork: {{ $root.Values.hostNetwork }}
      {{- if $root.Values.hostNetwork }}
      dnsPolicy: ClusterFirstWithHostNet
      {{- end }}
      terminationGracePeriodSeconds: {{ $process.terminationGracePeriodSeconds }}
      securityContext:
        {{- toYaml $root.Values.podSecurityContext | nindent 8 }}
      containers:
        - name: {{ .component }}
          image: {{ include "dwb.image" $root }}
          imagePullPolicy: {{ $root.Values.image.pullPolicy }}
          command: {{ toJson $process.command }}
          envFrom:
            - configMapRef:
                name: {{ include "dwb.fullname" $root }}-config
          env:
            - name: {{ $process.portEnv }}
              value: {{ $process.port | quote }}
            - name: HEALTH_PORT_FILE
              value: /tmp/health-port
            {{- with include "dwb.secretEnv" (dict "root" $root "component" .component) | trim }}{{ . | nindent 12 }}{{ end }}
          {{- /* On the host network a declared port becomes a host port: the scheduler would refuse to
                 start a new pod beside the old one (SO_REUSEPORT lets them share it; probes are exec). */}}
          {{- if and (gt (int $process.port) 0) (not $root.Values.hostNetwork) }}
          ports:
            - name: http
              containerPort: {{ $process.port }}
              protocol: TCP
          {{- end }}
          {{- include "dwb.probes" (dict "process" $process) | trim | nindent 10 }}
          resources:
            {{- toYaml $process.resources | nindent 12 }}
          securityContext:
            {{- toYaml $root.Values.securityContext | nindent 12 }}
          volumeMounts:
            - name: tmp
              mountPath: /tmp
            {{- if $root.Values.files }}
            - name: files
              mountPath: /etc/app
              readOnly: true
            {{- end }}
      volumes:
        - name: tmp
          emptyDir: {}
        {{- if $root.Values.files }}
        - name: files
          configMap:
            name: {{ include "dwb.fullname" $root }}-files
        {{- end }}
{{- end -}}

{{/* A PodDisruptionBudget for one process. */}}
{{- define "dwb.pdb" -}}
{{- if .process.pdb.enabled }}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "dwb.fullname" .root }}-{{ .component }}
  labels:
    {{- include "dwb.labels" . | nindent 4 }}
spec:
  maxUnavailable: {{ .process.pdb.maxUnavailable }}
  selector:
    matchLabels:
      {{- include "dwb.selectorLabels" . | nindent 6 }}
{{- end }}
{{- end -}}

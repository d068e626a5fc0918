// Workflow interceptors bundled with the saga queue's workflows after the official OpenTelemetry
// ones (runtime/workflow-bundles.ts): they name the tenant on the workflow's span, so a trace
// search by tenant finds the saga. Workflow code: deterministic, no I/O.
import { trace } from '@opentelemetry/api';
import type { WorkflowInterceptors } from '@temporalio/workflow';

export const interceptors = (): WorkflowInterceptors => ({
  inbound: [
    {
      execute(input, next) {
        const tenantId = (input.args[0] as { tenantId?: unknown } | undefined)?.tenantId;
        if (typeof tenantId === 'string') trace.getActiveSpan()?.setAttribute('tenant.id', tenantId);
        return next(input);
      },
    },
  ],
});

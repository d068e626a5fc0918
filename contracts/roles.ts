// Roles a caller can hold: in a tenant (ranked: each includes the ones before it), or platform-wide.
export const TENANT_ROLES = ['viewer', 'member', 'admin', 'owner'] as const;
export type TenantRole = (typeof TENANT_ROLES)[number];

/** Operates the platform: rebuilds, approvals; not a member of any tenant by that alone. */
export const PLATFORM_ADMIN = 'platform-admin';

/** Every role a token can carry. */
export const ROLES = [...TENANT_ROLES, PLATFORM_ADMIN] as const;
export type Role = (typeof ROLES)[number];

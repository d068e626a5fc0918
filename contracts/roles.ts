// Who may do what. Access is decided by relation tuples in OpenFGA (platform/authz/model.fga): a
// tenant's members hold one of its roles; a token carries only identity and, for operators, the
// platform-admin role.
export const TENANT_ROLES = ['viewer', 'member', 'admin', 'owner'] as const;
export type TenantRole = (typeof TENANT_ROLES)[number];

/** The roles the membership routes grant; owner is granted by onboarding only. */
export const MEMBER_ROLES = ['admin', 'member', 'viewer'] as const;
export type MemberRole = (typeof MEMBER_ROLES)[number];

/** Operates the platform: rebuilds, approvals, reads every tenant; from the token's `roles` claim. */
export const PLATFORM_ADMIN = 'platform-admin';

/**
 * What a route needs: a relation of the authorization model on the object its path names, or just
 * a signed-in caller. A caller with no relation at all to the tenant gets 404, as if it did not exist.
 */
export type RouteAccess =
  | { object: 'none' }
  | { object: 'platform'; relation: 'admin' }
  | { object: 'tenant'; relation: 'can_read' | 'can_delete' | 'can_approve' | 'can_manage_members' }
  | { object: 'counter'; relation: 'can_read' | 'can_write' };

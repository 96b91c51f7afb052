/**
 * Workspace roles and what each may do. A system admin acts as `admin` in every workspace.
 *
 *   capability   viewer  member  approver  admin
 *   read           x       x        x        x
 *   write                  x        x        x     create/update items, run actions, submit batches
 *   decide                          x        x     approve/reject tickets assigned to them (admin: any)
 *   manage                                   x     datastores, members
 */
export const ROLES = Object.freeze(['admin', 'member', 'approver', 'viewer'] as const);
export type Role = (typeof ROLES)[number];

export type Capability = 'read' | 'write' | 'decide' | 'manage';

const GRANTS: Readonly<Record<Role, readonly Capability[]>> = Object.freeze({
  viewer: ['read'],
  member: ['read', 'write'],
  approver: ['read', 'write', 'decide'],
  admin: ['read', 'write', 'decide', 'manage'],
});

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

export function roleAllows(role: Role, capability: Capability): boolean {
  return GRANTS[role].includes(capability);
}

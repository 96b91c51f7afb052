/** Whether a caller's role may run an action, and which actions an item in a status offers it; any door uses these. */
import { fail } from '../errors.ts';
import { roleMayRun, type ActionDef, type Datastore } from './datastore-model.ts';
import type { Actor } from './operations/types.ts';

/** An action the caller's role may run; an unknown one and one limited to other roles are refused alike. */
export function actionFor(ds: Datastore, actor: Actor, key: string): ActionDef {
  const action = ds.actionByKey.get(key);
  if (!action) fail('ACTION_NOT_FOUND', `Datastore "${ds.display_id}" has no action "${key}".`);
  if (!actionAllowed(action, actor))
    fail('ACTION_NOT_PERMITTED', `Action "${action.display_id}" is limited to ${action.roles!.join(', ')}.`);
  return action;
}

export function actionAllowed(action: ActionDef, actor: Pick<Actor, 'role'>): boolean {
  return roleMayRun(action, actor.role);
}

/** Actions an item in `statusId` can take: status actions from that status, and datastore-level (update) actions. */
export function actionsFrom(ds: Datastore, statusId: string, actor: Pick<Actor, 'role'>): ActionDef[] {
  return ds.actions.filter(
    (a) =>
      actionAllowed(a, actor) && (a.kind === 'update' || !a.from_status_ids || a.from_status_ids.includes(statusId)),
  );
}

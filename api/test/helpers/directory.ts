import assert from 'node:assert/strict';
import { CACHE_SECONDS } from '../../src/identity/openbao/identities.js';
import type { Harness } from './harness.js';

/**
 * An administrator's changes to users and groups, on whichever identity backend the harness
 * runs: through Gatehouse's directory on the embedded store; in OpenBao (the emulator) on the
 * OpenBao backend, where Gatehouse only reads identity and sees a change once its identity cache
 * has run out, so the clock moves on by that much.
 */

async function groupIdOf(h: Harness, name: string): Promise<string> {
  const [group] = await h.ctx.identity.directory.findGroupsByName([name]);
  assert.ok(group, `group ${name}`);
  return group.id;
}

function inOpenBao(h: Harness, change: (bao: NonNullable<Harness['bao']>) => void): boolean {
  if (!h.bao) return false;
  change(h.bao);
  h.clock.advance(CACHE_SECONDS);
  return true;
}

export async function makeGroup(h: Harness, name: string, parents: string[] = []): Promise<void> {
  if (inOpenBao(h, (bao) => bao.addGroup(name, { parents }))) return;
  const parentIds = await Promise.all(parents.map((p) => groupIdOf(h, p)));
  await h.ctx.identity.directory.createGroup({ name, description: null, requireMfa: false, parentIds });
}

/** Replaces the groups `name` is nested in. */
export async function nestGroup(h: Harness, name: string, parents: string[]): Promise<void> {
  if (inOpenBao(h, (bao) => bao.setGroupParents(name, parents))) return;
  const parentIds = await Promise.all(parents.map((p) => groupIdOf(h, p)));
  assert.ok(await h.ctx.identity.directory.updateGroup(await groupIdOf(h, name), { parentIds }));
}

export async function setMember(h: Harness, group: string, userId: string, member: boolean): Promise<void> {
  if (inOpenBao(h, (bao) => bao.setGroupMember(group, userId, member))) return;
  const { directory } = h.ctx.identity;
  const id = await groupIdOf(h, group);
  await (member ? directory.addMember(id, userId) : directory.removeMember(id, userId));
}

export async function setDisabled(h: Harness, userId: string, disabled: boolean): Promise<void> {
  if (inOpenBao(h, (bao) => bao.setEntityDisabled(userId, disabled))) return;
  assert.ok(await h.ctx.identity.directory.setDisabled(userId, disabled));
}

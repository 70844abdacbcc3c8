import assert from 'node:assert/strict';
import { generate } from 'otplib';

const PERIOD = 30;
const stepOf = (seconds: number) => Math.floor(seconds / PERIOD);
const nowSeconds = () => Math.floor(Date.now() / 1000);

/**
 * An authenticator app for one secret. Gatehouse accepts each time step once (a replay is
 * refused) and one step either side of its clock, so each code comes from the first step
 * not used yet: the current one, else the next. Needing a third code within one 30 s step
 * is a mistake in the test, never a reason to sleep.
 */
export class Authenticator {
  private lastStep = -Infinity;
  constructor(readonly secret: string) {}

  async code(): Promise<string> {
    const current = stepOf(nowSeconds());
    const step = Math.max(current, this.lastStep + 1);
    assert.ok(step <= current + 1, 'no unused TOTP step within the accepted window: use another user for this journey');
    this.lastStep = step;
    return generate({ secret: this.secret, epoch: step * PERIOD });
  }

  /** A 6-digit code that is none of the codes Gatehouse would accept now. */
  async wrongCode(): Promise<string> {
    const current = stepOf(nowSeconds());
    const valid = new Set(await Promise.all([-1, 0, 1, 2].map((d) => generate({ secret: this.secret, epoch: (current + d) * PERIOD }))));
    return ['000000', '111111', '222222'].find((c) => !valid.has(c))!;
  }
}

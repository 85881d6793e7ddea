/**
 * Technician commands to an agent: `POST /api/agents/{site}/{agent}/commands/{command}` with
 * `{"args": {…}}`. Central sends the command as the logged-in user (the actor comes from the token,
 * never from the body) through the CommandRelay and answers with the agent's reply, or 504 when the
 * agent does not answer in time. Only technicians of the site (and admins) may send commands.
 */
import {
  ApiCommandArgs,
  COMMANDS,
  CommandBody,
  type CommandName,
  type CommandReply,
} from '@shelfsense/protocol';
import { z } from 'zod';
import { type ApiRouter, actorOf, authed } from './context.js';
import { CommandRelayErrorCodes } from './deps.js';
import { forbidden, HttpError, HttpErrorCodes, invalid, notFound } from './errors.js';
import { readJson, validate } from './io.js';
import { canSeeAgent, may } from './scope.js';
import { seesReportingAgent } from './shelves.js';

function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

export function commandRoutes(router: ApiRouter): void {
  authed(router, 'POST', '/api/agents/:site/:agent/commands/:command', async (ctx, p) => {
    const body = await readJson(ctx.req, CommandBody);
    const site = ctx.params['site'] ?? '';
    const agent = ctx.params['agent'] ?? '';
    // The role first: a role that may never send commands learns nothing about which agents exist.
    if (!may(p, 'agent.command')) throw forbidden(`the ${p.grant.role} role may not send agent commands`);
    if (!canSeeAgent(p, site, agent, ctx.deps.map) && !seesReportingAgent(ctx.deps, p, site, agent))
      throw notFound(`no agent ${site}/${agent}`);
    const command = ctx.params['command'] ?? '';
    if (!(COMMANDS as readonly string[]).includes(command)) {
      throw invalid('command', [{ path: 'command', message: `one of ${COMMANDS.join(', ')}` }]);
    }
    const name = command as CommandName;
    // Wrapped in `args` so each issue's path reads `args.massG`, as in the body.
    const args = validate(
      z.object({ args: ApiCommandArgs[name] }),
      { args: body.args },
      `arguments of ${name}`,
    ).args;
    const actor = actorOf(p);
    ctx.log.info({ site, agent, command: name, by: actor.user }, 'agent command');
    try {
      const reply = await ctx.deps.commands.send(site, agent, name, args, actor);
      const answer: CommandReply = {
        status: reply.status,
        data: reply.data ?? null,
        error: reply.error ?? null,
        transaction: reply.transaction,
      };
      return answer;
    } catch (err) {
      const code = errorCode(err);
      if (code === CommandRelayErrorCodes.TIMEOUT) {
        throw new HttpError(
          504,
          HttpErrorCodes.TIMEOUT,
          `agent ${site}/${agent} did not answer ${name} in time`,
        );
      }
      if (code === CommandRelayErrorCodes.UNAVAILABLE) {
        throw new HttpError(
          503,
          HttpErrorCodes.UNAVAILABLE,
          `cannot reach agent ${site}/${agent}: ${(err as Error).message}`,
        );
      }
      throw err;
    }
  });
}

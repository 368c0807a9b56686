/** Every `cordon` verb, in help order. */
import type { Command } from '../command.ts';
import { agentsCommands } from './agents.ts';
import { approvalCommands } from './approvals.ts';
import { attributionCommands } from './attribution.ts';
import { auditCommands } from './audit.ts';
import { credentialCommands } from './credentials.ts';
import { daemonCommands } from './daemon.ts';
import { fleetCommands } from './fleet.ts';
import { hookCommands } from './hook.ts';
import { identityCommands } from './identity.ts';
import { mcpCommands } from './mcp.ts';
import { policyCommands } from './policy.ts';
import { proxyCommands } from './proxy.ts';
import { scanCommands } from './scan.ts';
import { serviceCommands } from './service.ts';
import { settingsCommands } from './settings.ts';
import { uiCommands } from './ui.ts';
import { uninstallCommands } from './uninstall.ts';

export function allCommands(): readonly Command[] {
  return [
    ...scanCommands,
    ...daemonCommands,
    ...uiCommands,
    ...settingsCommands,
    ...fleetCommands,
    ...serviceCommands,
    ...uninstallCommands,
    ...policyCommands,
    ...proxyCommands,
    ...approvalCommands,
    ...agentsCommands,
    ...hookCommands,
    ...mcpCommands,
    ...attributionCommands,
    ...auditCommands,
    ...identityCommands,
    ...credentialCommands,
  ];
}

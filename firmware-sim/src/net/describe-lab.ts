/** What `firmware-sim net up` and `firmware-sim up` print about a running lab. */
import type { NetLab } from "./net-lab.js";
import { NAT_DESCRIPTIONS } from "./plan.js";

export function describeLab(lab: NetLab): string {
  const lines = [`firmware-sim net: lab ${lab.id} is up (namespaces ${lab.id}-*)`];
  for (const s of lab.plan.sites) {
    lines.push(
      `  ${s.name.padEnd(9)} host ${lab.address(s.name)} in ${s.hostNs}` +
        (s.natNs
          ? `, behind ${s.nat} (${NAT_DESCRIPTIONS[s.nat]}), public ${s.publicAddress}`
          : " (public, no NAT)"),
    );
  }
  const turn = lab.turn;
  if (turn) {
    lines.push(
      `  turn      ${turn.stunUrl}  ${turn.urls.udp}  ${turn.urls.tcp}  ${turn.urls.tls}`,
      `            REST secret ${turn.secret} (use-auth-secret), CA ${turn.caFile},`,
      `            max allocation lifetime ${turn.maxAllocateLifetimeS} s, log ${turn.logFile}`,
    );
  }
  if (lab.broker) lines.push(`  broker    ${lab.broker.mqttUrl}  ${lab.broker.wsUrl}`);
  const conditions = lab.conditions().trim();
  lines.push(
    `  control   ${lab.controlFile}${conditions ? ` (now: ${conditions.split("\n").join(", ")})` : " (no impairment)"}`,
    `  inside    ip netns exec ${lab.board.hostNs} COMMAND   (or firmware-sim net change "board:down")`,
  );
  return lines.join("\n") + "\n";
}

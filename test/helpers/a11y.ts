/**
 * An accessibility audit of the page a browser test is on: axe-core (Deque's WCAG rule engine)
 * run in the page over the WCAG 2.1 A and AA rules (labels, names, roles, contrast, landmarks,
 * focusable content...). Injected through the DevTools protocol, so the page's own CSP stays on.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

export type A11yViolation = { readonly id: string; readonly impact: string; readonly help: string; readonly targets: readonly string[] };

type AxeResult = { violations: { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] }[] };
type AxeGlobal = { axe?: { run(context: unknown, options: unknown): Promise<AxeResult> }; document: unknown };

/** Serious and critical WCAG violations on the page as it is now. */
export async function auditA11y(page: Page): Promise<A11yViolation[]> {
  if (!(await page.evaluate(() => typeof (globalThis as unknown as AxeGlobal).axe === 'object'))) await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async (tags) => {
    const g = globalThis as unknown as AxeGlobal;
    if (!g.axe) throw new Error('axe-core did not load');
    const result = await g.axe.run(g.document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact ?? 'unknown', help: v.help, targets: v.nodes.slice(0, 5).map((n) => n.target.map(String).join(' ')) }));
  }, TAGS);
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

export function describeViolations(where: string, violations: readonly A11yViolation[]): string {
  return violations.map((v) => `${where}: ${v.id} (${v.impact}) ${v.help} -> ${v.targets.join(' | ')}`).join('\n');
}

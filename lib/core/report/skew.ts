/** The run report's train/serve skew section: per feature, how often serving's logged value differs from the run's. */
import type { SkewReport } from '../eval/skew.ts';

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

/** An HTML fragment; `threshold` (the gate's maxFeatureSkew) marks the features over it. */
export function renderSkewSection(skew: SkewReport | undefined, threshold: number | undefined): string {
  if (skew === undefined) return '<h2>Train/serve skew</h2><p>Not measured in this run.</p>';
  const pct = (x: number): string => `${(x * 100).toFixed(2)}%`;
  const rows = Object.entries(skew.features)
    .map(
      ([name, s]) =>
        `<tr><td>${esc(name)}</td><td>${s.compared}</td><td class="${threshold !== undefined && s.rate > threshold ? 'fail' : 'pass'}">${pct(s.rate)}</td><td>${s.example ? `${esc(s.example.userId)}: served ${esc(s.example.served)}, run ${esc(s.example.recomputed)}` : ''}</td></tr>`,
    )
    .join('');
  const versions = Object.entries(skew.transformVersions)
    .map(([v, n]) => `${esc(v)} (${n})`)
    .join(', ');
  return `<h2>Train/serve skew</h2>
<p>${skew.requests} logged requests read, ${skew.compared} compared with this run's features (transform ${esc(skew.runTransformVersion)}); serving transform versions: ${versions || 'none'}${threshold !== undefined ? `; the gate allows ${pct(threshold)} per feature` : ''}.</p>
<table><thead><tr><th>feature</th><th>compared</th><th>mismatch rate</th><th>first mismatch</th></tr></thead><tbody>${rows || '<tr><td colspan="4">nothing to compare</td></tr>'}</tbody></table>`;
}

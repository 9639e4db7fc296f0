/**
 * A tiny Prometheus text-format (version 0.0.4) writer. Parts of the app
 * register a collector; /metrics calls each on every scrape, so nothing is
 * counted twice and nothing is computed when nobody asks.
 */
export interface Sample {
  name: string;
  help: string;
  type: "counter" | "gauge";
  value: number;
  labels?: Record<string, string>;
}

export type Collector = () => Sample[];

export class MetricsRegistry {
  private readonly collectors = new Set<Collector>();

  register(collector: Collector): () => void {
    this.collectors.add(collector);
    return () => this.collectors.delete(collector);
  }

  render(): string {
    const byName = new Map<string, Sample[]>();
    for (const collect of this.collectors) {
      for (const sample of collect()) {
        const list = byName.get(sample.name) ?? [];
        list.push(sample);
        byName.set(sample.name, list);
      }
    }
    const lines: string[] = [];
    for (const [name, samples] of byName) {
      const first = samples[0];
      if (!first) continue;
      lines.push(`# HELP ${name} ${first.help}`, `# TYPE ${name} ${first.type}`);
      for (const s of samples)
        lines.push(`${name}${formatLabels(s.labels)} ${formatValue(s.value)}`);
    }
    return lines.join("\n") + "\n";
  }
}

function formatLabels(labels: Record<string, string> | undefined): string {
  if (!labels) return "";
  const parts = Object.entries(labels).map(
    ([k, v]) => `${k}="${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`,
  );
  return parts.length ? `{${parts.join(",")}}` : "";
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (!Number.isFinite(v)) return v > 0 ? "+Inf" : "-Inf";
  return String(v);
}

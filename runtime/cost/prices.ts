// Azure list prices the run cost estimate uses, in one place. They are a setting: a pipeline's
// `cost.prices` overrides any of them (an enterprise agreement, another region, a newer price list).
//
// Defaults: USD, pay-as-you-go, East US, as written down on 2026-12-02 from Azure's public price pages
// (Functions "Flex Consumption", Storage "Azure Data Lake Storage Gen2" hot LRS with hierarchical namespace,
// "Queue Storage", "Key Vault" standard). They were not fetched by this code and prices change: check
// https://azure.microsoft.com/pricing/ and set your own. Free grants (Flex Consumption's monthly
// 100,000 GB-s and 250,000 executions per subscription) are not subtracted: the estimate is what the run
// consumes, not the bill.

export interface AzurePrices {
  readonly currency: string;
  /** The day these prices were taken. */
  readonly asOf: string;
  readonly region: string;
  /** Flex Consumption on-demand execution time, per GB-second of instance memory. */
  readonly flexGbSecond: number;
  /** Flex Consumption on-demand executions, per million. */
  readonly flexMillionExecutions: number;
  /** ADLS Gen2 write operations (each 4 MiB counts as one), per 10,000. */
  readonly storageWrites10k: number;
  /** ADLS Gen2 read operations (each 4 MiB counts as one), per 10,000. */
  readonly storageReads10k: number;
  /** ADLS Gen2 iterative read operations (a list page), per 10,000. */
  readonly storageLists10k: number;
  /** ADLS Gen2 hot capacity, per GB-month (what a run's written bytes add to the bill each month they stay). */
  readonly storageGbMonth: number;
  /** Queue Storage operations (put, get, delete a message), per 10,000. */
  readonly queue10k: number;
  /** Key Vault secret operations (standard tier), per 10,000. */
  readonly keyVault10k: number;
}

export const DEFAULT_AZURE_PRICES: AzurePrices = {
  currency: "USD",
  asOf: "2026-12-02",
  region: "East US",
  flexGbSecond: 0.000026,
  flexMillionExecutions: 0.4,
  storageWrites10k: 0.0715,
  storageReads10k: 0.0057,
  storageLists10k: 0.0715,
  storageGbMonth: 0.019,
  queue10k: 0.004,
  keyVault10k: 0.03,
};

/** What a pipeline may say about its cost estimate (`pipeline("shop", { cost: { … } })`). */
export interface CostSettings {
  /**
   * Memory of one Flex Consumption instance: GB-seconds are this × a task's duration. Match the stack's
   * `functions.instanceMemoryMB`. @default 2048
   */
  readonly instanceMemoryMB?: 2048 | 4096;
  /** Prices replacing the defaults (any subset). @example { flexGbSecond: 0.000024, currency: "EUR", asOf: "2026-10-01" } */
  readonly prices?: Partial<AzurePrices>;
}

export interface ResolvedCostSettings {
  readonly instanceMemoryMB: number;
  readonly prices: AzurePrices;
}

export function resolveCostSettings(settings: CostSettings | undefined): ResolvedCostSettings {
  return { instanceMemoryMB: settings?.instanceMemoryMB ?? 2048, prices: { ...DEFAULT_AZURE_PRICES, ...settings?.prices } };
}

/** Problems with declared cost settings, each naming its field. */
export function costProblems(settings: CostSettings | undefined): string[] {
  if (settings === undefined) return [];
  const problems: string[] = [];
  if (settings.instanceMemoryMB !== undefined && settings.instanceMemoryMB !== 2048 && settings.instanceMemoryMB !== 4096) {
    problems.push(`cost.instanceMemoryMB: expected 2048 or 4096 (Flex Consumption instance sizes), got ${String(settings.instanceMemoryMB)}`);
  }
  for (const [key, value] of Object.entries(settings.prices ?? {})) {
    if (!(key in DEFAULT_AZURE_PRICES)) problems.push(`cost.prices.${key}: unknown (known: ${Object.keys(DEFAULT_AZURE_PRICES).join(", ")})`);
    else if (typeof DEFAULT_AZURE_PRICES[key as keyof AzurePrices] === "number" && !(typeof value === "number" && Number.isFinite(value) && value >= 0)) {
      problems.push(`cost.prices.${key}: expected a price of 0 or more, got ${JSON.stringify(value)}`);
    }
  }
  return problems;
}

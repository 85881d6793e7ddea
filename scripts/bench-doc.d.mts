export interface BenchSection {
  name: string;
  title: string;
}
export function markers(name: string): { begin: string; end: string };
export function sectionBlock(name: string, header: string, output: string): string;
export function placeSection(text: string, section: BenchSection, block: string): string;
export interface SummaryRow {
  measure: string;
  ours: number;
  peer?: number;
  peerName?: string;
  target?: string;
  met?: boolean;
}
export function summaryLine(name: string, rows: SummaryRow[]): string;
export function summaryTable(text: string): string | null;

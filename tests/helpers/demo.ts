/**
 * `shelfsense demo` in process, fast: free ports, the simulator at 10× speed, the HTTP API and
 * dashboard mounted, and short supplier and delivery delays so an order goes round in seconds.
 */
import { type Demo, type DemoOptions, startDemo } from '@shelfsense/demo';
import { type Logger, pino } from 'pino';

/** Starts the demo in `dir` with the fast defaults; `overrides` win over them. */
export function startFastDemo(
  dir: string,
  overrides: Partial<DemoOptions> = {},
  logger: Logger = pino({ level: 'warn' }),
): Promise<Demo> {
  return startDemo(
    {
      dir,
      httpPort: 0,
      mqttPort: 0,
      speed: 10,
      logLevel: 'warn',
      supplierDelayMs: 300,
      deliveryDelayMs: 300,
      itemMs: 100,
      ...overrides,
    },
    logger,
  );
}

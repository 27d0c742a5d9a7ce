// The Variables pane's hex/decimal toggle: tells the adapter, which answers with an
// `invalidated` event so VS Code re-reads the values; the context key flips the menu item.
import type { Host } from './seam';
import { SetNumberFormatRequest } from './protocol';

export const DECIMAL_CONTEXT = 'vpdbg.decimal';

export async function setNumberFormat(host: Host, hex: boolean): Promise<boolean> {
  const session = host.activeDebugSession();
  if (!session || session.type !== 'vpdbg') return false;
  try {
    await session.customRequest(SetNumberFormatRequest, { hex });
  } catch (e) {
    await host.showError(`vpdbg: cannot change the number format: ${(e as Error).message}`);
    return false;
  }
  await host.setContext(DECIMAL_CONTEXT, !hex);
  return true;
}

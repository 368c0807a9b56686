/**
 * The only file that touches ipcMain: registers one handler per invoke channel of the contract,
 * each going through dispatchInvoke (sender and argument checks). Unlisted channels get no handler.
 */
import { ipcMain, type IpcMainInvokeEvent } from 'electron';
import { INVOKE_CHANNELS } from './contract.ts';
import { dispatchInvoke, type InvokeHandlers, type Refusal } from './dispatch.ts';

function senderOf(event: IpcMainInvokeEvent): { url: string; isMainFrame: boolean; id: number } {
  const frame = event.senderFrame;
  // A frame that navigated away or was destroyed is null: treat it as untrusted.
  if (!frame) return { url: '', isMainFrame: false, id: event.sender.id };
  return { url: frame.url, isMainFrame: frame === event.sender.mainFrame, id: event.sender.id };
}

/** Registers the handlers; returns a function that removes them. */
export function registerIpc(rendererRoot: string, handlers: InvokeHandlers, onRefuse: (refusal: Refusal) => void): () => void {
  for (const channel of INVOKE_CHANNELS) {
    ipcMain.handle(channel, (event, ...args: unknown[]) => dispatchInvoke(channel, senderOf(event), args, rendererRoot, handlers, onRefuse));
  }
  return () => {
    for (const channel of INVOKE_CHANNELS) ipcMain.removeHandler(channel);
  };
}

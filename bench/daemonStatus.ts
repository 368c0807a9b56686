// A running daemon's status over its control socket, for benchmarks that start `cordon daemon`.
import type { DaemonStatus } from '../app/api/control.ts';
import { connectControl } from '../app/client/controlClient.ts';

/** The daemon's status, or null while it does not answer (starting, stopping). */
export async function daemonStatus(socketPath: string): Promise<DaemonStatus | null> {
  try {
    const client = await connectControl(socketPath);
    try {
      return await client.call('status');
    } finally {
      client.close();
    }
  } catch {
    return null;
  }
}

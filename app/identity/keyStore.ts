/**
 * The KeyStore: a narrow, async get/set/delete of secret strings in the OS keychain (macOS
 * Keychain, Windows Credential Manager, the Linux Secret Service), backed by @napi-rs/keyring.
 * It never falls back to memory or a file: no reachable keychain is an ERR_KEYCHAIN_UNAVAILABLE.
 */
import { AsyncEntry, type EntryOptions } from '@napi-rs/keyring';
import { CoreError } from '../api/errors.ts';

/** The keychain service every Cordon secret is filed under (tests pass their own). */
export const DEFAULT_KEYCHAIN_SERVICE = 'dev.cordon.agent';

/**
 * Secret storage by account name under one service. Values are opaque strings (JWK JSON, PEM);
 * implementations must never log or echo them.
 */
export type KeyStore = Readonly<{
  /** The service name the entries live under, e.g. "dev.cordon.agent". */
  service: string;
  /** The stored secret, or null when the account has none. */
  get(account: string): Promise<string | null>;
  /** Creates or replaces the secret for the account. */
  set(account: string, secret: string): Promise<void>;
  /** Deletes the account's secret; false when there was none. */
  delete(account: string): Promise<boolean>;
}>;

export type OsKeyStoreOptions = Readonly<{
  /** Keychain service name; default "dev.cordon.agent". */
  service?: string;
}>;

const ACCOUNT_RE = /^[A-Za-z0-9:._@+-]{1,200}$/;
const SERVICE_RE = /^[A-Za-z0-9._-]{1,120}$/;

/**
 * Opens the OS keychain. On Linux the entry is pinned to the Secret Service (gnome-keyring,
 * KWallet, KeePassXC): @napi-rs/keyring would otherwise fall back to the kernel keyutils ring,
 * which forgets everything at reboot and is not the user's keychain.
 */
export function createOsKeyStore(options: OsKeyStoreOptions = {}): KeyStore {
  const service = options.service ?? DEFAULT_KEYCHAIN_SERVICE;
  if (!SERVICE_RE.test(service)) throw new CoreError('ERR_BAD_REQUEST', `invalid keychain service name '${service}'`);
  const entryOptions: EntryOptions = process.platform === 'linux' ? { linux: { store: 'secret-service' } } : {};

  const entry = (account: string): AsyncEntry => {
    if (!ACCOUNT_RE.test(account)) throw new CoreError('ERR_BAD_REQUEST', 'invalid keychain account name');
    try {
      return new AsyncEntry(service, account, entryOptions);
    } catch (error) {
      throw keychainError('open', account, error);
    }
  };

  return {
    service,
    async get(account) {
      const e = entry(account);
      try {
        return await retryTransient(() => e.getPassword());
      } catch (error) {
        throw keychainError('read', account, error);
      }
    },
    async set(account, secret) {
      const e = entry(account);
      try {
        await retryTransient(() => e.setPassword(secret));
      } catch (error) {
        throw keychainError('write', account, error);
      }
    },
    async delete(account) {
      const e = entry(account);
      try {
        return await retryTransient(() => e.deleteCredential());
      } catch (error) {
        throw keychainError('delete', account, error);
      }
    },
  };
}

/**
 * A Secret Service that is up but slow (a loaded machine) can miss a D-Bus reply; that one call
 * is retried, twice at most, before the keychain is reported unavailable. Anything else fails at once.
 */
async function retryTransient<T>(operation: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      const text = error instanceof Error ? `${error.message} ${String((error as { cause?: unknown }).cause ?? '')}` : String(error);
      if (attempt >= 2 || !/did not receive a reply|NoReply|Timeout was reached/i.test(text)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200 * (attempt + 1)));
    }
  }
}

/**
 * Turns a keyring failure into ERR_KEYCHAIN_UNAVAILABLE with a hint. The native message names
 * the transport (D-Bus socket, Secret Service), never a secret: the library only sees account
 * names and values, and we never pass values into messages.
 */
function keychainError(op: string, account: string, error: unknown): CoreError {
  const detail = error instanceof Error ? error.message : String(error);
  const hint =
    process.platform === 'linux'
      ? ' (Cordon needs a running Secret Service such as gnome-keyring or KWallet on the session D-Bus; it never falls back to a file)'
      : '';
  return new CoreError('ERR_KEYCHAIN_UNAVAILABLE', `OS keychain unavailable: cannot ${op} '${account}': ${oneLine(detail)}${hint}`, {
    cause: error,
  });
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').slice(0, 300);
}

/**
 * Server-sent events (the WHATWG event-stream format) as MCP's HTTP transports use it: an
 * incremental parser that tolerates any chunking and CR/LF/CRLF, and the serializer for
 * re-emitting (possibly rewritten) events.
 */

export type SseEvent = { event: string | null; data: string; id: string | null; retry: string | null };

export type SseParser = Readonly<{
  /** Feeds text; calls onEvent per complete event and onComment per comment line. */
  push(text: string): void;
}>;

/** Cap on one event, so an endless event cannot exhaust memory. */
export const MAX_SSE_EVENT_CHARS = 32 * 1024 * 1024;

export function createSseParser(onEvent: (event: SseEvent) => void, onComment: (comment: string) => void, onOversize: () => void): SseParser {
  let buffer = '';
  let data: string[] = [];
  let dataSize = 0;
  let event: string | null = null;
  let id: string | null = null;
  let retry: string | null = null;
  let skipLf = false;

  const dispatch = (): void => {
    if (data.length > 0 || event !== null) onEvent({ event, data: data.join('\n'), id, retry });
    data = [];
    dataSize = 0;
    event = null;
    id = null;
    retry = null;
  };
  const line = (text: string): void => {
    if (text === '') return dispatch();
    if (text.startsWith(':')) return onComment(text.slice(1));
    const colon = text.indexOf(':');
    const field = colon < 0 ? text : text.slice(0, colon);
    let value = colon < 0 ? '' : text.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') {
      dataSize += value.length;
      if (dataSize > MAX_SSE_EVENT_CHARS) {
        data = [];
        dataSize = 0;
        return onOversize();
      }
      data.push(value);
    } else if (field === 'event') event = value;
    else if (field === 'id') id = value;
    else if (field === 'retry') retry = value;
  };

  return {
    push(text) {
      buffer += text;
      let start = 0;
      for (let i = 0; i < buffer.length; i++) {
        const c = buffer.charCodeAt(i);
        if (c === 0x0a && skipLf && i === start) {
          skipLf = false;
          start = i + 1;
          continue;
        }
        skipLf = false;
        if (c === 0x0a || c === 0x0d) {
          line(buffer.slice(start, i));
          skipLf = c === 0x0d;
          start = i + 1;
        }
      }
      buffer = buffer.slice(start);
      if (buffer.length > MAX_SSE_EVENT_CHARS) {
        buffer = '';
        onOversize();
      }
    },
  };
}

/** Serializes one event (data split on newlines, as the format requires). */
export function formatSseEvent(event: SseEvent): string {
  let out = '';
  if (event.event !== null) out += `event: ${event.event}\n`;
  if (event.id !== null) out += `id: ${event.id}\n`;
  if (event.retry !== null) out += `retry: ${event.retry}\n`;
  for (const part of event.data.split(/\r\n|\r|\n/)) out += `data: ${part}\n`;
  return `${out}\n`;
}

import { ApiProperty } from '../common/openapi';
import Bowser from 'bowser';

/** What a session's user agent says about the device, for people to recognise it. */
export class DeviceView {
  @ApiProperty({ type: String, nullable: true, example: 'Firefox on Windows' })
  name: string | null;
  @ApiProperty({ type: String, nullable: true, example: 'Firefox' })
  browser: string | null;
  @ApiProperty({ type: String, nullable: true, example: 'Windows' })
  os: string | null;
  @ApiProperty({
    type: String,
    nullable: true,
    example: 'desktop',
    description: 'desktop, mobile, tablet, tv or bot, as the parser (bowser) names it',
  })
  type: string | null;
}

export const UNKNOWN_DEVICE: Readonly<DeviceView> = Object.freeze({
  name: null,
  browser: null,
  os: null,
  type: null,
});

// Bowser falls back to the agent's first token as the browser name when it knows none; that is
// client-written text, and a device name people trust on an account page must not be. Only
// names from the parser's own tables are kept.
const KNOWN_BROWSERS = new Set<string>(Object.values(Bowser.BROWSER_MAP));
const KNOWN_OSES = new Set<string>(Object.values(Bowser.OS_MAP));
const KNOWN_TYPES = new Set<string>(Object.values(Bowser.PLATFORMS_MAP));

const known = (set: Set<string>, value: string | undefined) =>
  value && set.has(value) ? value : null;

/**
 * Parses a user agent once, when the session is created (it never changes for a session), so
 * listings and exports read a stored value. Anything the parser does not recognise is null; an
 * unparseable or missing agent gives every field null, never an error: the header is the
 * client's to write.
 */
export function parseDevice(userAgent: string | null | undefined): DeviceView {
  if (!userAgent) return { ...UNKNOWN_DEVICE };
  let parsed: Bowser.Parser.ParsedResult;
  try {
    parsed = Bowser.parse(userAgent);
  } catch {
    return { ...UNKNOWN_DEVICE };
  }
  const browser = known(KNOWN_BROWSERS, parsed.browser?.name);
  const os = known(KNOWN_OSES, parsed.os?.name);
  return {
    name: browser && os ? `${browser} on ${os}` : (browser ?? os),
    browser,
    os,
    type: known(KNOWN_TYPES, parsed.platform?.type),
  };
}

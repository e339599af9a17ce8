import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Public, TokenTransport } from '../sessions';

/** Read once: the files do not change while the process runs (nest-cli.json copies them to dist). */
const asset = (name: string) => readFileSync(join(__dirname, 'public', name), 'utf8');

const HTML = 'text/html; charset=utf-8';

/**
 * `GET /account`: a page where a person signs in and sees and signs out their devices, through
 * the cookie transport. Its script and style are files of their own, so the page runs under the
 * app's CSP (scripts from 'self' only, no inline script).
 */
@ApiTags('account')
@Public()
@Controller('account')
export class AccountController {
  private readonly page: string;
  private readonly script = asset('account.js');
  private readonly style = asset('account.css');

  constructor(transport: TokenTransport) {
    // Header transport sets no cookie, so the page could not keep anyone signed in: it says so
    // instead of offering a sign-in that would lead nowhere.
    this.page = transport.usesCookies
      ? asset('account.html').replace('%CSRF_COOKIE%', transport.csrfCookieName)
      : asset('account-unavailable.html');
  }

  @Get()
  @Header('Content-Type', HTML)
  @Header('Cache-Control', 'no-cache')
  @ApiOperation({
    summary: 'The devices page (HTML): sign in, see your devices, sign them out',
    description:
      'Needs TOKEN_TRANSPORT=cookie or both; with header transport the page says so and offers no sign-in.',
  })
  @ApiProduces('text/html')
  @ApiOkResponse({
    description: 'The page',
    content: { 'text/html': { schema: { type: 'string' } } },
  })
  html(): string {
    return this.page;
  }

  @Get('account.js')
  @Header('Content-Type', 'text/javascript; charset=utf-8')
  @Header('Cache-Control', 'no-cache')
  @ApiOperation({ summary: "The devices page's script" })
  @ApiProduces('text/javascript')
  @ApiOkResponse({
    description: 'The script',
    content: { 'text/javascript': { schema: { type: 'string' } } },
  })
  js(): string {
    return this.script;
  }

  @Get('account.css')
  @Header('Content-Type', 'text/css; charset=utf-8')
  @Header('Cache-Control', 'no-cache')
  @ApiOperation({ summary: "The devices page's style sheet" })
  @ApiProduces('text/css')
  @ApiOkResponse({
    description: 'The style sheet',
    content: { 'text/css': { schema: { type: 'string' } } },
  })
  css(): string {
    return this.style;
  }
}

import { ApiProperty, ApiPropertyOptional } from '../../common/openapi';
import { SessionView } from '../session.view';

/** The answer of login, refresh and reauth. */
export class TokenResponse {
  @ApiProperty({ description: 'JWT to send as `Authorization: Bearer …`' })
  accessToken: string;
  @ApiProperty({ description: 'Opaque; single use (rotated by POST /auth/refresh)' })
  refreshToken: string;
  @ApiProperty({ example: 'Bearer' })
  tokenType: 'Bearer';
  @ApiProperty({ description: "The access token's lifetime in seconds", example: 900 })
  expiresIn: number;
  @ApiProperty({ type: SessionView })
  session: SessionView;
}

/**
 * What login, refresh, reauth answer over HTTP: the token response, except that with
 * TOKEN_TRANSPORT=cookie the tokens travel only as HttpOnly cookies (so both are optional
 * here), and with `cookie` or `both` the session's CSRF token is added (also set as a readable
 * cookie). Written out rather than built with swagger's mapped types (OmitType, PartialType…):
 * those are runtime functions of @nestjs/swagger, an optional peer of the package.
 */
export class TokenAnswerDto {
  @ApiPropertyOptional({ description: 'JWT to send as `Authorization: Bearer …`' })
  accessToken?: string;
  @ApiPropertyOptional({ description: 'Opaque; single use (rotated by POST /auth/refresh)' })
  refreshToken?: string;
  @ApiProperty({ example: 'Bearer' })
  tokenType: 'Bearer';
  @ApiProperty({ description: "The access token's lifetime in seconds", example: 900 })
  expiresIn: number;
  @ApiProperty({ type: SessionView })
  session: SessionView;
  @ApiPropertyOptional({
    description:
      'With TOKEN_TRANSPORT=cookie or both: send it as `X-CSRF-Token` on state-changing requests authenticated by the access cookie',
  })
  csrfToken?: string;
}

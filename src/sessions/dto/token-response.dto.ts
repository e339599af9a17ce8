import { ApiProperty } from '../../common/openapi';
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

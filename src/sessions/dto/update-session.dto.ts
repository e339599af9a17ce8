import { ApiProperty } from '../../common/openapi';
import { IsDefined, IsString, MaxLength, ValidateIf } from 'class-validator';
import { SessionView } from '../session.view';

export class UpdateSessionDto {
  @ApiProperty({ type: String, nullable: true, description: 'null clears the label' })
  @IsDefined()
  @ValidateIf((_, v) => v !== null)
  @IsString()
  @MaxLength(200)
  label: string | null;
}

export class CurrentUserView {
  @ApiProperty()
  id: string;
  @ApiProperty()
  username: string;
  @ApiProperty({ type: [String] })
  roles: string[];
  @ApiProperty({ type: [String] })
  groups: string[];
}

export class CurrentSessionView extends SessionView {
  @ApiProperty({ description: 'False when an expired session reached the route' })
  valid: boolean;
  @ApiProperty({ type: CurrentUserView })
  user: CurrentUserView;
}

export class EndedCount {
  @ApiProperty()
  ended: number;
}

import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  IsArray,
  IsNotEmpty,
  IsOptional,
  IsString,
  MaxLength,
} from 'class-validator';

const names = { each: true } as const;

export class CreateUserDto {
  @ApiProperty({ example: 'alice' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  username: string;

  @ApiProperty({ example: 'correct horse battery staple' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(1024)
  password: string;

  @ApiPropertyOptional({ type: [String], example: ['admin'] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @IsString(names)
  @IsNotEmpty(names)
  @MaxLength(200, names)
  roles?: string[];

  @ApiPropertyOptional({ type: [String], example: ['staff'] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @IsString(names)
  @IsNotEmpty(names)
  @MaxLength(200, names)
  groups?: string[];
}

export class CreatedUserDto {
  @ApiProperty()
  id: string;
  @ApiProperty()
  username: string;
  @ApiProperty({ type: [String] })
  roles: string[];
  @ApiProperty({ type: [String] })
  groups: string[];
}

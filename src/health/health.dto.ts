import { ApiProperty } from '@nestjs/swagger';

export class HealthUpDto {
  @ApiProperty({ enum: ['ok'], example: 'ok' })
  status: 'ok';

  @ApiProperty({ enum: ['up'], example: 'up' })
  db: 'up';
}

export class HealthDownDto {
  @ApiProperty({ enum: ['error'], example: 'error' })
  status: 'error';

  @ApiProperty({ enum: ['down'], example: 'down' })
  db: 'down';
}

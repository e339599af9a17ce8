import type { PipeTransform, Type } from '@nestjs/common';

/**
 * The type of a param decorator taking an optional field (and pipes), written out: the one
 * `createParamDecorator` infers on Nest 12 names `ParameterDecoratorOptions`, which Nest 11
 * lacks, so a Nest 11 app could not compile against the published declarations.
 */
export type FieldParamDecorator<Field> = (
  ...dataOrPipes: (Field | PipeTransform | Type<PipeTransform>)[]
) => ParameterDecorator;

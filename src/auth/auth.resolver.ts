import 'reflect-metadata';
import { GraphQLJSONObject } from 'graphql-scalars';
import { Arg, Ctx, Field, ID, Int, Mutation, ObjectType, Query, Resolver, UseMiddleware } from 'type-graphql';
import { type AuthUser } from '../../auth-providers/auth-provider.js';
import { type RequestContext } from '../context.js';
import { trackedWork } from '../http/request-work.js';
import { type AuthPayload as Payload } from './auth-service.js';
import { requireUser } from './require-user.js';

@ObjectType({ description: 'The user a request is made for' })
class CurrentUser {
  @Field(() => ID)
  id!: string;

  @Field(() => String, { nullable: true })
  name?: string | null;

  @Field(() => [String], { description: 'Empty: the user is treated as holding the role `public`' })
  roles!: string[];

  @Field(() => GraphQLJSONObject, { description: 'What row filters read, e.g. { clientId: 2 }' })
  attributes!: Record<string, unknown>;
}

@ObjectType({ description: 'Tokens for a session: send `Authorization: Bearer <accessToken>`' })
class AuthPayload {
  @Field(() => String)
  accessToken!: string;

  @Field(() => String, { description: 'Opaque and single-use: refreshToken returns its successor' })
  refreshToken!: string;

  @Field(() => String)
  tokenType!: string;

  @Field(() => Int, { description: 'Seconds until the access token expires' })
  expiresIn!: number;

  @Field(() => CurrentUser)
  user!: AuthUser;
}

/** The public entry points (login, refreshToken) and the session's own operations (logout, me). */
@Resolver()
@UseMiddleware(trackedWork)
export class AuthResolver {
  @Mutation(() => AuthPayload, { description: 'Username is the user id (s1, ALFKI, …)' })
  login(
    @Arg('username', () => String) username: string,
    @Arg('password', () => String) password: string,
    @Ctx() ctx: RequestContext,
  ): Promise<Payload> {
    return ctx.auth.login(username, password, ctx.clientAddress);
  }

  @Mutation(() => AuthPayload, { description: 'Trades a refresh token for a new pair; each works once' })
  refreshToken(
    @Arg('refreshToken', () => String) refreshToken: string,
    @Ctx() ctx: RequestContext,
  ): Promise<Payload> {
    return ctx.auth.refresh(refreshToken);
  }

  @UseMiddleware(requireUser)
  @Mutation(() => Boolean, { description: 'Ends the caller’s session: its refresh tokens stop working' })
  logout(
    @Arg('refreshToken', () => String) refreshToken: string,
    @Ctx() ctx: RequestContext,
  ): Promise<boolean> {
    return ctx.auth.logout(refreshToken, ctx.identity.user!.id);
  }

  @UseMiddleware(requireUser)
  @Query(() => CurrentUser, { nullable: true, description: 'Who the access token speaks for' })
  me(@Ctx() ctx: RequestContext): AuthUser | null {
    return ctx.identity.user ?? null;
  }
}

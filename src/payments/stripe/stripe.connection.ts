import { createHmac } from 'node:crypto';
import { Logger, OnModuleDestroy } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Server } from 'node:http';
import Stripe from 'stripe';
import { AppConfig } from '../../config/app-config';
import { FakeStripe } from '../sandbox/fake-stripe';
import type { SandboxStore } from '../sandbox/sandbox-store';

const CLIENT_DEFAULTS = { maxNetworkRetries: 2, timeout: 20_000, telemetry: false, appInfo: { name: 'bazaar' } } as const;

/**
 * The configured Stripe client and webhook secret. With STRIPE_SECRET_KEY it talks to Stripe (or
 * STRIPE_API_BASE); without, it starts the built-in sandbox — a Stripe-compatible server on a random
 * local port, its state in `store` (PostgreSQL: shared by every process) — and points the same SDK
 * at it. The sandbox signs with STRIPE_WEBHOOK_SECRET or, unset, one derived from JWT_SECRET, which
 * every process on the database shares.
 */
export class StripeConnection implements OnModuleDestroy {
  private constructor(
    readonly stripe: Stripe,
    readonly webhookSecret: string,
    /** Set only in sandbox mode. */
    readonly sandbox?: FakeStripe,
  ) {}

  static async create(config: AppConfig, adapterHost: HttpAdapterHost, store: SandboxStore): Promise<StripeConnection> {
    if (config.stripeSecretKey) {
      return new StripeConnection(
        new Stripe(config.stripeSecretKey, { ...CLIENT_DEFAULTS, ...apiBase(config.stripeApiBase) }),
        config.stripeWebhookSecret!,
      );
    }
    const logger = new Logger('StripeSandbox');
    const webhookSecret = config.stripeWebhookSecret ?? sandboxWebhookSecret(config.jwtSecret);
    const sandbox = await new FakeStripe({
      webhookSecret,
      store,
      recordRequests: false,
      webhookUrl: () => ownWebhookUrl(adapterHost),
      onError: (message, err) => logger.warn({ err }, message),
    }).start();
    logger.log(`Stripe sandbox listening on ${sandbox.url} (no STRIPE_SECRET_KEY set)`);
    return new StripeConnection(new Stripe('sk_test_sandbox', { ...CLIENT_DEFAULTS, ...sandbox.clientOptions }), webhookSecret, sandbox);
  }

  async onModuleDestroy(): Promise<void> {
    await this.sandbox?.stop();
  }
}

/** The sandbox's webhook secret without STRIPE_WEBHOOK_SECRET: the same in every process with this JWT_SECRET. */
function sandboxWebhookSecret(jwtSecret: string): string {
  return `whsec_${createHmac('sha256', jwtSecret).update('bazaar stripe sandbox webhook secret').digest('hex').slice(0, 48)}`;
}

function apiBase(base: string | undefined): Pick<Stripe.StripeConfig, 'host' | 'port' | 'protocol'> {
  if (!base) return {};
  const url = new URL(base);
  const protocol = url.protocol === 'http:' ? 'http' : 'https';
  return { host: url.hostname, port: url.port || (protocol === 'http' ? 80 : 443), protocol };
}

/** This process's own webhook route, while its HTTP server is listening. */
function ownWebhookUrl(adapterHost: HttpAdapterHost): string | undefined {
  const server = adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
  const addr = server?.listening ? server.address() : null;
  if (!addr || typeof addr === 'string') return undefined;
  return `http://127.0.0.1:${addr.port}/webhooks/stripe`;
}

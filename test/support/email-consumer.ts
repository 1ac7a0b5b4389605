/** A plugin that only knows the email contract (as auth does), handing the service to the test. */
import { definePlugin, emailServiceRef, type EmailService } from '../../core/index.ts';

export function emailConsumer(receive: (email: EmailService) => void) {
  return definePlugin({
    id: 'sender',
    version: '1.0.0',
    requires: { email: emailServiceRef },
    init(ctx) {
      receive(ctx.services.email);
    },
  });
}

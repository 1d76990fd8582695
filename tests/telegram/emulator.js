// Starts telegram-test-api on loopback, with the few routes python-telegram-bot 22 needs fixed.
//
// Usage: node emulator.js PORT   (prints "ready http://127.0.0.1:PORT" once it listens)
//
// Fixes, each replacing one route's handler (the rest of the emulator is used as it is):
//   getMe        the answer lacks `is_bot`, so PTB refuses to start.
//   sendMessage  answers with `date` in milliseconds (PTB wants seconds), without `from`, and echoes
//                request-only parameters (link_preview_options as a string) that PTB cannot parse.
//   getUpdates   ignores `offset` (confirmed updates) and `timeout` (long polling), so PTB spins;
//                callback queries lack `chat_instance`, which PTB requires.
//   webhooks     the update POST does not carry the secret token given to setWebhook.
//   editMessageText  answers with a null result, which PTB cannot parse; Telegram answers with the
//                edited Message (or True), so this answers True after the emulator's own edit.
// Added for the tests: a client route /sendUpdate for updates the client API cannot make
// (edited messages, channel posts).
'use strict';

const axios = require('axios');
const TelegramServer = require('telegram-test-api');
const { routes } = require('telegram-test-api/lib/routes/index');

const BOT = { id: 666, is_bot: true, first_name: 'Test First name', username: 'TestNameBot' };
const MAX_POLL_SECONDS = 5; // a bound, so a stopped test never leaves a request hanging long

function handle(app, path, handler) {
  app.post(path, handler);
  app.get(path, handler);
}

function formatUpdate(update) {
  if (update.raw) return { update_id: update.updateId, ...update.raw };
  const out = TelegramServer.formatUpdate(update);
  if (out.callback_query && !out.callback_query.chat_instance) {
    out.callback_query.chat_instance = String(update.callbackQuery.message?.chat?.id ?? 0);
  }
  return out;
}

function pending(server, token, offset) {
  const mine = (u) => u.botToken === token;
  if (offset) {
    // Telegram forgets updates below the offset once the bot has asked with it.
    server.storage.userMessages = server.storage.userMessages.filter((u) => !mine(u) || u.updateId >= offset);
  }
  return server.storage.userMessages.filter(mine).sort((a, b) => a.updateId - b.updateId);
}

function fixedRoutes(app, server) {
  handle(app, '/bot:token/getMe', (req, res) => {
    res.sendResult({ ok: true, result: { ...BOT, can_join_groups: true, can_read_all_group_messages: false, supports_inline_queries: false } });
  });

  handle(app, '/bot:token/sendMessage', (req, res) => {
    const sent = server.addBotMessage(req.body, req.params.token);
    // Answer with a Message as Telegram does, not an echo of the request's parameters.
    const chatId = Number(sent.chat.id);
    const result = {
      message_id: sent.message_id,
      date: Math.floor(sent.date / 1000),
      chat: { id: chatId, type: chatId < 0 ? 'group' : 'private', first_name: 'Test' },
      from: BOT,
      text: sent.text,
    };
    if (sent.reply_markup) result.reply_markup = sent.reply_markup;
    res.sendResult({ ok: true, result });
  });

  handle(app, '/bot:token/editMessageText', (req, res) => {
    server.editMessageText(req.body);
    res.sendResult({ ok: true, result: true });
  });

  handle(app, '/bot:token/getUpdates', async (req, res) => {
    const params = { ...req.query, ...req.body };
    const token = req.params.token;
    const offset = Number(params.offset || 0);
    const limit = Math.min(Number(params.limit || 100), 100);
    const timeout = Math.min(Number(params.timeout || 0), MAX_POLL_SECONDS);
    let updates = pending(server, token, offset);
    if (!updates.length && timeout > 0) {
      await new Promise((resolve) => {
        const events = ['AddedUserMessage', 'AddedUserCommand', 'AddedUserCallbackQuery'];
        const done = () => {
          clearTimeout(timer);
          events.forEach((e) => server.off(e, done));
          resolve();
        };
        const timer = setTimeout(done, timeout * 1000);
        events.forEach((e) => server.on(e, done));
      });
      updates = pending(server, token, offset);
    }
    updates.forEach((u) => { u.isRead = true; });
    res.sendResult({ ok: true, result: updates.slice(0, limit).map(formatUpdate) });
  });

  // Client side, added: any other kind of update (edited_message, channel_post, ...) as given.
  app.post('/sendUpdate', async (req, res) => {
    const { botToken, ...raw } = req.body;
    await server.addUserUpdate({ ...server.getCommonFields(botToken), raw });
    server.messageId++;
    server.emit('AddedUserMessage');
    res.sendResult({ ok: true, result: null });
  });

  // Webhook delivery as Telegram does it: the secret token travels in a header.
  server.addUserUpdate = async function addUserUpdate(update) {
    const webhook = this.webhooks[update.botToken];
    if (webhook) {
      const headers = webhook.secret_token ? { 'X-Telegram-Bot-Api-Secret-Token': webhook.secret_token } : {};
      try {
        await axios({ url: webhook.url, method: 'POST', data: formatUpdate(update), headers });
      } catch (err) { // a bot that is down must not take the emulator with it
        console.error(`webhook delivery to ${webhook.url} failed: ${err.message}`);
      }
    } else {
      this.storage.userMessages.push(update);
    }
    this.updateId++;
  };
}

async function main() {
  const port = Number(process.argv[2]);
  if (!port) {
    console.error('usage: node emulator.js PORT');
    process.exit(2);
  }
  routes.unshift(fixedRoutes); // registered before the emulator's own, so these answer first
  const server = new TelegramServer({ port, host: '127.0.0.1', storeTimeout: 3600 });
  await server.start();
  console.log(`ready ${server.config.apiURL}`);
  const stop = async () => { await server.stop(); process.exit(0); };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stdin.on('end', stop); // the test process went away: so do we
  process.stdin.resume();
}

main().catch((err) => { console.error(err.stack || String(err)); process.exit(1); });

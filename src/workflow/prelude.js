// What a workflow script sees besides the language itself: `tools`, `console` and `ToolError`.
// Evaluated once per run before the script; it returns the function the engine settles calls
// with. Nothing here reaches files, the network, processes or the clock.
(function (submit, write, done) {
  'use strict';
  const pending = new Map();
  let next = 0;

  class ToolError extends Error {
    constructor(tool, message, reason) {
      super(message);
      this.name = 'ToolError';
      this.tool = tool;
      this.reason = reason;
    }
  }

  function call(name, args) {
    if (typeof name !== 'string' || name === '') {
      throw new TypeError('tools.call(name, args): name must be a tool name');
    }
    if (args === undefined || args === null) args = {};
    if (typeof args !== 'object' || Array.isArray(args)) {
      throw new TypeError(`tools.${name}(args): args must be an object of the tool's parameters`);
    }
    // Where in the script the call was made: a failure is reported at that line.
    const site = new Error();
    return new Promise((resolve, reject) => {
      const id = ++next;
      pending.set(id, [resolve, reject, name, site]);
      submit(id, name, JSON.stringify(args));
    });
  }

  // `tools.NAME(args)` for any tool the session offers, `tools.ALIAS.NAME(args)` for a child
  // server's `ALIAS__NAME`, and `tools.call(name, args)`: names are resolved by switchboard,
  // so an unknown one fails with the closest names.
  const skip = (k) => typeof k !== 'string' || k === 'then' || k === 'toJSON';
  const group = (alias) => new Proxy(function (args) { return call(alias, args); }, {
    get(target, k) { return skip(k) ? undefined : (args) => call(`${alias}__${k}`, args); },
  });
  globalThis.tools = new Proxy(Object.create(null), {
    get(target, k) {
      if (k === 'call') return call;
      return skip(k) ? undefined : group(k);
    },
  });
  globalThis.ToolError = ToolError;

  const show = (v) => {
    if (typeof v === 'string') return v;
    if (v instanceof Error) return `${v.name}: ${v.message}`;
    try {
      const s = JSON.stringify(v);
      return s === undefined ? String(v) : s;
    } catch (e) {
      return String(v);
    }
  };
  const logger = (level) => (...args) => write(level, args.map(show).join(' '));
  globalThis.console = {
    log: logger('log'), info: logger('info'), warn: logger('warn'),
    error: logger('error'), debug: logger('debug'),
  };

  // No clock: a script is a function of its tools' answers (tools.current_time() tells the time).
  const RealDate = Date;
  const noClock = () => {
    throw new Error('a workflow has no clock of its own: call tools.current_time() for the time');
  };
  RealDate.now = noClock;
  globalThis.Date = new Proxy(RealDate, {
    construct(target, args, newTarget) {
      if (args.length === 0) noClock();
      return Reflect.construct(target, args, newTarget);
    },
    apply: noClock,
  });

  // The script's outcome: its value as JSON, or what it threw (name, message, stack).
  const thrown = (e) => {
    if (e instanceof Error) {
      return JSON.stringify({ name: e.name, message: String(e.message), stack: String(e.stack || '') });
    }
    // The engine throws null when it cannot even make the error for running out of memory.
    if (e === null) return JSON.stringify({ name: 'null', message: 'null', stack: '' });
    return JSON.stringify({ name: 'thrown', message: show(e), stack: '' });
  };
  function watch(promise) {
    promise.then((v) => {
      let json;
      try {
        json = JSON.stringify(v === undefined ? null : v);
      } catch (e) {
        done(false, JSON.stringify({ name: 'TypeError', message: `the return value is not JSON: ${e.message}`, stack: '' }));
        return;
      }
      done(true, json === undefined ? 'null' : json);
    }, (e) => done(false, thrown(e)));
  }

  function settle(id, json) {
    const entry = pending.get(id);
    if (entry === undefined) return;
    pending.delete(id);
    const [resolve, reject, name, site] = entry;
    const r = JSON.parse(json);
    if ('ok' in r) {
      resolve(r.ok);
    } else {
      const e = new ToolError(name, r.error, r.reason);
      e.stack = site.stack;
      reject(e);
    }
  }
  return { settle, watch };
})

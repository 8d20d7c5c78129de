// The page side of asyncio_guest_webview.  Installed with webview_init, so it runs on
// every page load right after the library's own window.__webview__ glue.  It wraps the
// library's call() (which every bound window.<name>() goes through) and adds:
//
// * argument encoding: binary data (ArrayBuffer, typed arrays, DataView, Blob) is tagged
//   as base64, BigInt is tagged as decimal text, and anything that JSON would silently
//   mangle (functions, symbols, cycles, Maps with non-string keys, NaN, DOM nodes, ...)
//   rejects the call with a TypeError naming the argument;
// * result decoding: tagged bytes become Uint8Array, a stream handle becomes an async
//   iterable; Python's rejections become Error objects ("Type: text");
// * cancellation: an AbortSignal as the last argument, or promise.cancel(), cancels the
//   Python side and rejects with an AbortError at once;
// * streams with credit-based back-pressure, events (asyncioGuest.on/off) and the
//   evaluate() helper.
//
// Python fills in __CONFIG__ (the reserved binding and the tag names).
(function () {
  'use strict';
  var C = __CONFIG__;
  var wv = window.__webview__;
  if (!wv || wv.__asyncioGuestPatched) { return; }
  var proto = Object.getPrototypeOf(wv);
  var rawCall = proto.call;
  var rawOnBind = proto.onBind;
  var slice = Array.prototype.slice;

  function internal() {
    // A message to Python over the reserved binding (not enveloped, never cancelled).
    return rawCall.apply(wv, [C.reply].concat(slice.call(arguments)));
  }

  // ------------------------------------------------------------------ base64
  var HAS_NATIVE_B64 = typeof Uint8Array.fromBase64 === 'function' &&
    typeof Uint8Array.prototype.toBase64 === 'function';

  function bytesToBase64(bytes) {
    if (HAS_NATIVE_B64) { return bytes.toBase64(); }
    var parts = [];
    for (var i = 0; i < bytes.length; i += 0x8000) {
      parts.push(String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000)));
    }
    return btoa(parts.join(''));
  }

  function base64ToBytes(text) {
    if (HAS_NATIVE_B64) { return Uint8Array.fromBase64(text); }
    var binary = atob(text);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) { bytes[i] = binary.charCodeAt(i); }
    return bytes;
  }

  // ------------------------------------------------------------------ encoding
  function typeName(value) {
    if (value === null) { return 'null'; }
    var t = typeof value;
    if (t !== 'object') { return t; }
    var p = Object.getPrototypeOf(value);
    return (p && p.constructor && p.constructor.name) || 'Object';
  }

  function cannot(where, value, why) {
    return new TypeError(where + ' is ' + (why || 'a ' + typeName(value)) +
      ', which cannot cross to Python');
  }

  function isAbortSignal(value) {
    return typeof AbortSignal !== 'undefined' && value instanceof AbortSignal;
  }

  // Encode one value.  state.tagged is set when a tag was used; state.blobs collects
  // Blobs, read afterwards (asynchronously) into their placeholders.
  function encode(value, where, state, active) {
    if (value === null || value === undefined) { return null; }
    var t = typeof value;
    if (t === 'string' || t === 'boolean') { return value; }
    if (t === 'number') {
      if (!isFinite(value)) { throw cannot(where, value, String(value)); }
      return value;
    }
    if (t === 'bigint') {
      state.tagged = true;
      var tagInt = {}; tagInt[C.intKey] = value.toString(); return tagInt;
    }
    if (t === 'function' || t === 'symbol') { throw cannot(where, value); }
    // Objects from here on.
    if (value instanceof ArrayBuffer ||
        (typeof SharedArrayBuffer !== 'undefined' && value instanceof SharedArrayBuffer)) {
      state.tagged = true;
      var tagBuf = {}; tagBuf[C.bytesKey] = bytesToBase64(new Uint8Array(value)); return tagBuf;
    }
    if (ArrayBuffer.isView(value)) {  // typed arrays and DataView: their bytes
      state.tagged = true;
      var tagView = {};
      tagView[C.bytesKey] = bytesToBase64(
        new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
      return tagView;
    }
    if (typeof Blob !== 'undefined' && value instanceof Blob) {
      state.tagged = true;
      var holder = {}; holder[C.bytesKey] = '';
      state.blobs.push({ blob: value, holder: holder });
      return holder;
    }
    if (active.indexOf(value) >= 0) { throw cannot(where, value, 'a cycle (it contains itself)'); }
    if (value instanceof Promise || value instanceof Error || value instanceof RegExp ||
        value instanceof WeakMap || value instanceof WeakSet ||
        (typeof Node !== 'undefined' && value instanceof Node) || value === window ||
        isAbortSignal(value)) {
      throw cannot(where, value);
    }
    active.push(value);
    try {
      if (Array.isArray(value)) {
        return value.map(function (item, i) {
          return encode(item, where + '[' + i + ']', state, active);
        });
      }
      if (value instanceof Set) {
        var list = [];
        value.forEach(function (item) {
          list.push(encode(item, where + '[' + list.length + ']', state, active));
        });
        return list;
      }
      if (value instanceof Map) {
        var fromMap = {};
        value.forEach(function (item, key) {
          if (typeof key !== 'string') {
            throw cannot(where, value, 'a Map with a ' + typeName(key) + ' key');
          }
          fromMap[key] = encode(item, where + '[' + JSON.stringify(key) + ']', state, active);
        });
        return fromMap;
      }
      if (typeof value.toJSON === 'function') {  // Date and friends: JSON's own rule
        return encode(value.toJSON(), where, state, active);
      }
      var keys = Object.keys(value);
      var p = Object.getPrototypeOf(value);
      if (keys.length === 0 && p !== null && p !== Object.prototype) {
        // A class instance with no own data (e.g. a File handle, a URL, an Event):
        // JSON would send {} and lose it.
        throw cannot(where, value);
      }
      var out = {};
      keys.forEach(function (key) {
        if (key === C.bytesKey || key === C.intKey || key === C.envelopeKey ||
            key === C.streamKey) {
          throw new TypeError(where + ' uses the reserved key ' + JSON.stringify(key));
        }
        out[key] = encode(value[key], where + '.' + key, state, active);
      });
      return out;
    } finally {
      active.pop();
    }
  }

  // Encode a whole value (or, with `args`, each argument of a call, named by position):
  // returns the payload, or a Promise of it when Blobs must be read first.
  function encodeTop(value, where, args) {
    var state = { tagged: false, blobs: [] };
    var encoded = args
      ? value.map(function (item, i) { return encode(item, 'argument ' + (i + 1), state, []); })
      : encode(value, where, state, []);
    function finish() {
      if (!state.tagged) { return encoded; }
      var envelope = {}; envelope[C.envelopeKey] = encoded; return envelope;
    }
    if (state.blobs.length === 0) { return finish(); }
    return Promise.all(state.blobs.map(function (item) {
      return item.blob.arrayBuffer().then(function (buffer) {
        item.holder[C.bytesKey] = bytesToBase64(new Uint8Array(buffer));
      });
    })).then(finish);
  }

  // ------------------------------------------------------------------ decoding
  function untag(value) {
    if (Array.isArray(value)) { return value.map(untag); }
    if (value && typeof value === 'object') {
      var keys = Object.keys(value);
      if (keys.length === 1) {
        if (keys[0] === C.bytesKey) { return base64ToBytes(value[C.bytesKey]); }
        if (keys[0] === C.streamKey) { return openStream(value[C.streamKey]); }
      }
      var out = {};
      keys.forEach(function (key) { out[key] = untag(value[key]); });
      return out;
    }
    return value;
  }

  function decode(value) {
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      var keys = Object.keys(value);
      if (keys.length === 1 && keys[0] === C.envelopeKey) { return untag(value[C.envelopeKey]); }
    }
    return value;
  }

  function toError(value) {
    if (value && typeof value === 'object' && value[C.errorKey]) {
      var err = value.type === 'TypeError' ? new TypeError(value.type + ': ' + value.message)
        : new Error(value.type + ': ' + value.message);
      err.pythonType = value.type;
      err.pythonMessage = value.message;
      return err;
    }
    return value;
  }

  function abortError(method, signal) {
    if (signal && signal.reason !== undefined) { return signal.reason; }
    return new DOMException(method + '() was aborted', 'AbortError');
  }

  // ------------------------------------------------------------------ streams
  // Open streams by id.  A stream that the page abandons without closing stays open
  // (at most C.streamWindow chunks buffered) until the page unloads or the window closes.
  var streams = {};

  function openStream(id) {
    var state = {
      id: id, buffer: [], waiters: [], end: null, closed: false, consumed: 0,
    };
    streams[id] = state;
    function settleWaiters() {
      while (state.waiters.length && (state.buffer.length || state.end)) {
        var w = state.waiters.shift();
        if (state.buffer.length) {
          w.resolve({ value: take(), done: false });
        } else if (state.end.error) {
          w.reject(state.end.error);
        } else {
          w.resolve({ value: undefined, done: true });
        }
      }
    }
    function take() {
      var value = state.buffer.shift();
      state.consumed += 1;
      if (!state.end && state.consumed >= C.streamWindow / 2) {
        internal('credit', id, state.consumed);
        state.consumed = 0;
      }
      return value;
    }
    function close(error) {
      if (!state.closed) {
        state.closed = true;
        if (!state.end) { internal('close', id); }
        delete streams[id];
        state.end = state.end || (error ? { error: error } : { done: true });
        state.buffer.length = 0;
      }
      settleWaiters();
    }
    state.push = function (items, end) {
      if (state.closed) { return; }
      for (var i = 0; i < items.length; i++) { state.buffer.push(items[i]); }
      if (end) {
        state.end = end.error ? { error: toError(end.error) } : { done: true };
        delete streams[id];
      }
      settleWaiters();
    };
    state.close = close;
    var iterator = {
      next: function () {
        if (state.buffer.length) { return Promise.resolve({ value: take(), done: false }); }
        if (state.end) {
          if (state.end.error) { return Promise.reject(state.end.error); }
          return Promise.resolve({ value: undefined, done: true });
        }
        return new Promise(function (resolve, reject) {
          state.waiters.push({ resolve: resolve, reject: reject });
        });
      },
      return: function (value) {
        close(null);
        return Promise.resolve({ value: value, done: true });
      },
      throw: function (error) {
        close(null);
        return Promise.reject(error);
      },
    };
    iterator[Symbol.asyncIterator] = function () { return iterator; };
    state.iterator = iterator;
    // The first credit starts the Python side: sent from here, after this stream exists,
    // so no chunk can arrive before it.
    internal('credit', id, C.streamWindow);
    return iterator;
  }

  // ------------------------------------------------------------------ calls
  var tokenPrefix = Math.random().toString(36).slice(2) + '.';
  var nextToken = 1;

  proto.call = function (method) {
    var self = this;
    var args = slice.call(arguments, 1);
    if (method === C.reply) { return rawCall.apply(self, arguments); }
    var signal = args.length && isAbortSignal(args[args.length - 1]) ? args.pop() : null;
    var token = tokenPrefix + (nextToken++);
    var sent = false;
    var settled = false;
    var abort;
    var promise = new Promise(function (resolve, reject) {
      function fail(error) {
        if (!settled) { settled = true; reject(error); }
      }
      abort = function (reason) {
        if (settled) {
          var stream = streams[token];
          if (stream) { stream.close(reason || abortError(method, signal)); }
          return;
        }
        settled = true;
        if (sent) { internal('cancel', token); }
        reject(reason || abortError(method, signal));
      };
      if (signal && signal.aborted) { abort(); return; }
      if (signal) { signal.addEventListener('abort', function () { abort(); }, { once: true }); }
      function send(encodedArgs) {
        if (settled) { return; }  // aborted while Blobs were read
        var envelope = {}; envelope[C.callKey] = token; envelope.args = encodedArgs;
        sent = true;
        rawCall.call(self, method, envelope).then(function (value) {
          var decoded;
          try { decoded = decode(value); } catch (e) { fail(e); return; }
          if (settled) {
            // Cancelled meanwhile: a stream that opened anyway is closed at once.
            if (decoded && streams[token]) { streams[token].close(null); }
            return;
          }
          settled = true;
          resolve(decoded);
        }, function (reason) { fail(toError(reason)); });
      }
      var encoded;
      try {
        encoded = encodeTop(args, null, true);
      } catch (e) {
        fail(new TypeError(method + '(): ' + e.message));
        return;
      }
      if (encoded && typeof encoded.then === 'function') {
        encoded.then(send, function (e) { fail(new TypeError(method + '(): ' + e.message)); });
      } else {
        send(encoded);
      }
    });
    promise.cancel = function (reason) { abort(reason); };
    promise[Symbol.asyncIterator] = function () {
      // `for await (const x of window.f(...))` without awaiting the call first.
      var inner = null;
      function get() {
        return promise.then(function (value) {
          if (!value || typeof value.next !== 'function') {
            throw new TypeError(method + '() did not return a stream');
          }
          inner = value;
          return value;
        });
      }
      return {
        next: function () { return (inner ? Promise.resolve(inner) : get()).then(function (it) { return it.next(); }); },
        return: function (value) {
          if (inner) { return inner.return(value); }
          abort(null);
          return Promise.resolve({ value: value, done: true });
        },
      };
    };
    return promise;
  };
  // The library defines every binding in one loop that stops at the first name the page's
  // window already has (e.g. "closed", "name", "open"), leaving the later ones undefined.
  // Define the others anyway and tell Python which name failed.
  proto.onBind = function (name) {
    try {
      return rawOnBind.call(this, name);
    } catch (e) {
      internal('bind_error', name, String(e && e.message || e));
    }
  };
  wv.__asyncioGuestPatched = true;

  // ------------------------------------------------------------------ events
  var listeners = {};
  var events = {
    on: function (name, handler) {
      if (typeof name !== 'string') { throw new TypeError('event name must be a string'); }
      if (typeof handler !== 'function') { throw new TypeError('handler must be a function'); }
      (listeners[name] = listeners[name] || []).push(handler);
      return function () { events.off(name, handler); };
    },
    off: function (name, handler) {
      var list = listeners[name];
      if (!list) { return false; }
      var i = list.indexOf(handler);
      if (i < 0) { return false; }
      list.splice(i, 1);
      if (!list.length) { delete listeners[name]; }
      return true;
    },
    once: function (name, handler) {
      var off = events.on(name, function (payload) { off(); handler(payload); });
      return off;
    },
  };
  window.asyncioGuest = events;

  // ------------------------------------------------------------------ from Python
  window.__asyncio_guest_webview__ = {
    emit: function (name, payload) {
      var list = listeners[name];
      if (!list) { return; }
      var value = decode(payload);
      list.slice().forEach(function (handler) {
        try { handler(value); } catch (e) { setTimeout(function () { throw e; }); }
      });
    },
    push: function (id, items, end) {
      var state = streams[id];
      if (state) { state.push(items.map(decode), end); }
    },
    evaluate: function (key, source) {
      function report(ok, payload, name) { internal(key, ok, payload, name || null); }
      Promise.resolve()
        .then(function () { return (0, eval)(source); })
        .then(function (value) { return encodeTop(value, 'the value'); })
        .then(function (encoded) {
          var text = JSON.stringify(encoded);
          report(true, text);
        }, function (e) {
          var name = (e && e.name) || 'Error';
          var message = (e && e.message !== undefined) ? String(e.message) : String(e);
          report(false, message, name);
        });
    },
  };

  // Tell Python this document can run scripts (see Bridge.page_loading).
  function ready() { internal('ready'); }
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', ready);
  } else {
    ready();
  }
})();

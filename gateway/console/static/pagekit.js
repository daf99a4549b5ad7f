// Line 19 — what the console and the supervisor page share. Plain JS, no build step, no
// modules: it defines one global, `window.L19Page`, and is loaded with a plain <script> before
// each page's own script. The factories take the page's elements; nothing here looks an
// element up by itself. Every text that comes from the server is written with textContent.
"use strict";

(function () {
  const API = "/api/v1";

  const STATE_LABELS = {
    logged_out: "Hors file",
    ready: "Prêt",
    paused: "En pause",
    ringing: "Sonnerie",
    in_call: "En ligne",
    wrapup: "Clôture",
    unreachable: "Injoignable",
  };
  // A page may say more (the console: "unreachable (softphone)").
  const STATE_ENGLISH = {
    logged_out: "logged out",
    ready: "ready",
    paused: "paused",
    ringing: "ringing",
    in_call: "in call",
    wrapup: "wrap-up",
    unreachable: "unreachable",
  };
  const PAUSE_LABELS = {
    "logged-in": "entrée en file", // the gateway's reason for a member just added to the queue
    break: "pause",
    training: "formation",
    technical: "technique",
    other: "autre",
  };

  // The units (police cars, motorbikes…): their states, the French label, the English, and
  // the colour of their marker on a map.
  const UNIT_STATES = {
    available: ["Disponible", "available", "#2ea043"],
    proposed: ["Proposée", "proposed", "#ffb020"],
    dispatched: ["Engagée", "dispatched", "#388bfd"],
    en_route: ["En route", "en route", "#388bfd"],
    on_scene: ["Sur place", "on scene", "#ff3b30"],
    out_of_service: ["Hors service", "out of service", "#8b949e"],
  };
  const UNIT_OTHER = ["?", "unknown state", "#8b949e"];

  function unitState(state) {
    return UNIT_STATES[state] || [state || UNIT_OTHER[0], UNIT_OTHER[1], UNIT_OTHER[2]];
  }

  // ---------------------------------------------------------------- text

  function small(text) {
    const node = document.createElement("small");
    node.textContent = text;
    return node;
  }

  // "Prêt <small>ready</small>": the French, then the English in small print.
  function setBilingual(node, french, english) {
    node.replaceChildren(document.createTextNode(french + " "), small(english));
  }

  // ---------------------------------------------------------------- time

  function pad(n) {
    return String(n).padStart(2, "0");
  }

  // 75 -> "01:15", 3725 -> "1:02:05"
  function clock(totalSeconds) {
    let seconds = Math.max(0, Math.floor(totalSeconds));
    const h = Math.floor(seconds / 3600);
    seconds -= h * 3600;
    const m = Math.floor(seconds / 60);
    const s = seconds - m * 60;
    return (h ? h + ":" : "") + pad(m) + ":" + pad(s);
  }

  // The time since `iso`, as clock() writes it; "" for a date that does not parse.
  function elapsed(iso) {
    const start = new Date(iso).getTime();
    if (Number.isNaN(start)) return "";
    return clock((Date.now() - start) / 1000);
  }

  function formatTime(iso) {
    if (!iso) return "";
    const date = new Date(iso);
    if (Number.isNaN(date.getTime())) return String(iso);
    return date.toLocaleTimeString("fr-FR", { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  }

  // 850 -> "850 m", 1234 -> "1,2 km"
  function distanceText(meters) {
    if (typeof meters !== "number") return "—";
    if (meters < 1000) return Math.round(meters) + " m";
    return (Math.round(meters / 100) / 10).toLocaleString("fr-FR") + " km";
  }

  // An ETA in minutes: 30 -> "< 1 min", 250 -> "4 min"
  function minutesText(seconds) {
    if (typeof seconds !== "number") return "—";
    if (seconds < 60) return "< 1 min";
    return Math.round(seconds / 60) + " min";
  }

  // An age in seconds: "12 s", "4 min", "2 h"
  function ageText(seconds) {
    if (typeof seconds !== "number" || Number.isNaN(seconds)) return "—";
    const s = Math.max(0, seconds);
    if (s < 60) return Math.floor(s) + " s";
    if (s < 3600) return Math.floor(s / 60) + " min";
    return Math.floor(s / 3600) + " h";
  }

  // ---------------------------------------------------------------- the error line and the API

  // The page's error line (#error). show(text, origin) tags the error with what showed it;
  // clear() clears any error (an action of the user), clear(origin) only the error that
  // origin showed (a poll that answers again).
  function errors(node) {
    let shownBy = null;
    return {
      show(text, origin) {
        node.textContent = text;
        node.hidden = false;
        shownBy = origin || null;
      },
      clear(origin) {
        if (origin && shownBy !== origin) return;
        node.textContent = "";
        node.hidden = true;
        shownBy = null;
      },
    };
  }

  function goToLogin() {
    window.location.replace("/login");
  }

  // The one error shape of the API: {"error": {"code", "message"}}.
  function errorText(status, body) {
    if (body && body.error) {
      const code = body.error.code ? " [" + body.error.code + "]" : "";
      return (body.error.message || "HTTP " + status) + code;
    }
    return "HTTP " + status;
  }

  // The API without the error line: request(method, path, body) resolves to
  // {ok, status, data, code, text}: `code` is the error's code (null when ok), `text` the
  // line to show ("message [code]"). A 401 goes to /login (ok false, status 401). For a page
  // that says some errors its own way (e.g. "no location yet") instead of on the error line.
  async function request(method, path, body) {
    const init = {
      method: method,
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(API + path, init);
    } catch (_) {
      return {
        ok: false, status: 0, data: null, code: "unreachable",
        text: "Serveur injoignable — the server does not answer (" + method + " " + path + ")",
      };
    }
    let data = null;
    try {
      data = await response.json();
    } catch (_) {
      data = null;
    }
    if (response.status === 401) goToLogin();
    if (!response.ok) {
      const code = data && data.error && data.error.code ? data.error.code : null;
      return { ok: false, status: response.status, data: data, code: code, text: errorText(response.status, data) };
    }
    return { ok: true, status: response.status, data: data, code: null, text: "" };
  }

  // One way to call the API: JSON in, JSON out, the one error shape shown on the error line
  // (`errorLine`, from errors()). The function returned, api(method, path, body, origin),
  // resolves to the parsed body, or null when the call failed (the error is then shown,
  // tagged with `origin` when given); a 401 goes to /login.
  function api(errorLine) {
    return async function (method, path, body, origin) {
      const answer = await request(method, path, body);
      if (answer.ok) return answer.data;
      if (answer.status !== 401) errorLine.show(answer.text, origin);
      return null;
    };
  }

  // ---------------------------------------------------------------- live updates (SSE)

  // The connection badge (#conn): the function returned, setConnection(open), shows it.
  function connectionBadge(node) {
    return function setConnection(open) {
      node.dataset.conn = open ? "open" : "reconnecting";
      node.classList.toggle("conn-up", open);
      node.classList.toggle("conn-down", !open);
      if (open) setBilingual(node, "en direct", "live");
      else setBilingual(node, "reconnexion…", "reconnecting…");
    };
  }

  // The event stream (GET /api/v1/events) with the badge. options: {api (from api()),
  // setConnection (from connectionBadge()), onOpen() (fetch anything missed while the stream
  // was down), meOrigin (the origin of the session check's error), listeners: {type: fn(event)}}.
  // Returns {connect(), close(), tick()}: tick() puts the badge right (call it every second).
  function stream(options) {
    let source = null; // the EventSource
    let reconnectTimer = null;

    function connect() {
      clearTimeout(reconnectTimer);
      if (source) source.close();
      source = new EventSource(API + "/events", { withCredentials: true });
      options.setConnection(false);

      source.onopen = () => {
        options.setConnection(true);
        options.onOpen();
      };
      source.onerror = () => {
        options.setConnection(source.readyState === EventSource.OPEN);
        if (source.readyState === EventSource.CLOSED) {
          // The browser does not retry after a non-200 answer (e.g. the session ended or the
          // gateway is restarting behind a proxy): check the session, then try again.
          reconnectTimer = setTimeout(async () => {
            const me = await options.api("GET", "/me", undefined, options.meOrigin);
            if (me) connect();
            else reconnectTimer = setTimeout(connect, options.reconnectDelayMs);
          }, options.reconnectDelayMs);
        }
      };
      for (const [type, listener] of Object.entries(options.listeners || {})) {
        source.addEventListener(type, listener);
      }
    }

    return {
      connect: connect,
      close() {
        if (source) source.close();
      },
      tick() {
        if (source) options.setConnection(source.readyState === EventSource.OPEN);
      },
    };
  }

  window.L19Page = Object.freeze({
    API: API,
    STATE_LABELS: Object.freeze(STATE_LABELS),
    STATE_ENGLISH: Object.freeze(STATE_ENGLISH),
    PAUSE_LABELS: Object.freeze(PAUSE_LABELS),
    small: small,
    setBilingual: setBilingual,
    pad: pad,
    clock: clock,
    elapsed: elapsed,
    formatTime: formatTime,
    distanceText: distanceText,
    minutesText: minutesText,
    ageText: ageText,
    UNIT_STATES: Object.freeze(UNIT_STATES),
    unitState: unitState,
    errors: errors,
    goToLogin: goToLogin,
    errorText: errorText,
    request: request,
    api: api,
    connectionBadge: connectionBadge,
    stream: stream,
  });
})();

// Line 19 — sign-in page. Plain JS, no build step.
// POST /api/v1/login {"username","password"} -> 200 {"user":{...}} + session cookie -> /console
// (/supervisor for the roles supervisor and admin)
// 401 invalid-credentials, 429 too-many-attempts: one JSON error shape {"error":{code,message}}.
"use strict";

(function () {
  const form = document.getElementById("login-form");
  const username = document.getElementById("username");
  const password = document.getElementById("password");
  const button = document.getElementById("btn-signin");
  const errorLine = document.getElementById("login-error");

  const MESSAGES = {
    "invalid-credentials": "Identifiant ou mot de passe incorrect — wrong username or password",
    "too-many-attempts": "Trop de tentatives : patientez avant de réessayer — too many attempts, wait and retry",
  };

  function showError(text) {
    errorLine.textContent = text;
    errorLine.hidden = false;
  }

  async function signIn(event) {
    event.preventDefault();
    errorLine.hidden = true;
    if (!username.value || !password.value) {
      showError("Identifiant et mot de passe requis — username and password are required");
      return;
    }
    button.disabled = true;
    try {
      const response = await fetch("/api/v1/login", {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ username: username.value, password: password.value }),
      });
      if (response.ok) {
        // A supervisor (or an admin) lands on the supervisor view, everyone else on the console.
        let role = null;
        try {
          role = ((await response.json()).user || {}).role || null;
        } catch (_) {
          role = null;
        }
        window.location.assign(role === "supervisor" || role === "admin" ? "/supervisor" : "/console");
        return;
      }
      let code = null;
      let message = "HTTP " + response.status;
      try {
        const body = await response.json();
        if (body && body.error) {
          code = body.error.code || null;
          message = body.error.message || message;
        }
      } catch (_) {
        // not JSON: keep the status line
      }
      showError(MESSAGES[code] || message);
      password.value = "";
      password.focus();
    } catch (_) {
      showError("Serveur injoignable — the server does not answer");
    } finally {
      button.disabled = false;
    }
  }

  form.addEventListener("submit", signIn);
})();

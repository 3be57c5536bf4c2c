// The sign-in page: POST /api/v1/auth/login sets the session cookie, then back to where the person was going.
import { call, describe, get } from "./api.js";

const form = document.getElementById("login-form");
const status = document.getElementById("login-status");

function next() {
  const target = new URLSearchParams(location.search).get("next") || "/";
  // Only a path on this server: never an address elsewhere (an open redirect).
  return target.startsWith("/") && !target.startsWith("//") ? target : "/";
}

function say(text, error = false) {
  status.textContent = text;
  status.classList.toggle("error", error);
}

// Already signed in, or nobody needs to sign in here: nothing to do on this page.
get("/api/v1/auth/me").then(() => location.replace(next())).catch(() => {});

form.addEventListener("submit", async (e) => {
  e.preventDefault();
  const button = form.querySelector("button");
  button.disabled = true;
  say("Signing in…");
  try {
    await call("POST", "/api/v1/auth/login", { username: form.elements.username.value.trim(), password: form.elements.password.value });
    location.replace(next());
  } catch (err) {
    form.elements.password.value = "";
    form.elements.password.focus();
    say(describe(err), true);
  } finally {
    button.disabled = false;
  }
});

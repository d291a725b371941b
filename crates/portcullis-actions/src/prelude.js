// The `api` object and `console` an Action sees. Every call is handed to the native recorder
// at once, so nothing the Action's code does to prototypes or globals afterwards can change
// what was recorded; the recorder itself is not reachable from the Action's code.
(function (record) {
  "use strict";
  const text = (value, what) => {
    if (typeof value !== "string") {
      throw new TypeError(what + " must be a string");
    }
    return value;
  };
  const unsupported = (name) => () => {
    throw new Error(name + " is not supported by Portcullis Actions");
  };
  const api = {};
  api.accessToken = Object.freeze({
    setCustomClaim(name, value) {
      record("accessToken.setCustomClaim", text(name, "claim name"), value);
      return api;
    },
    addScope(scope) {
      record("accessToken.addScope", text(scope, "scope"));
      return api;
    },
    removeScope(scope) {
      record("accessToken.removeScope", text(scope, "scope"));
      return api;
    },
  });
  api.idToken = Object.freeze({
    setCustomClaim(name, value) {
      record("idToken.setCustomClaim", text(name, "claim name"), value);
      return api;
    },
  });
  api.access = Object.freeze({
    deny(reason) {
      record("access.deny", String(reason === undefined ? "" : reason));
      return api;
    },
  });
  api.user = Object.freeze({
    setAppMetadata(name, value) {
      record("user.setAppMetadata", text(name, "metadata name"), value);
      return api;
    },
    setUserMetadata(name, value) {
      record("user.setUserMetadata", text(name, "metadata name"), value);
      return api;
    },
  });
  // Auth0's providers: "any" and the one-time-password ones ask for any factor the user
  // has (or enrols); "none" takes back an earlier call; Duo has no counterpart here.
  const factors = ["any", "google-authenticator", "guardian", "none"];
  api.multifactor = Object.freeze({
    enable(provider, options) {
      if (!factors.includes(text(provider, "provider"))) {
        throw new Error("api.multifactor.enable: provider " + JSON.stringify(provider)
          + " is not supported by Portcullis Actions (" + factors.join(", ") + ")");
      }
      record("multifactor.enable", provider);
      return api;
    },
  });
  api.redirect = Object.freeze({
    sendUserTo: unsupported("api.redirect.sendUserTo"),
    encodeToken: unsupported("api.redirect.encodeToken"),
    validateToken: unsupported("api.redirect.validateToken"),
  });
  api.cache = Object.freeze({
    get: () => undefined,
    set: unsupported("api.cache.set"),
    delete: unsupported("api.cache.delete"),
  });
  const line = (level) => (...args) => {
    const parts = args.map((arg) => {
      if (typeof arg === "string") return arg;
      try {
        const json = JSON.stringify(arg);
        return json === undefined ? String(arg) : json;
      } catch (_) {
        return String(arg);
      }
    });
    record("console", level, parts.join(" "));
  };
  globalThis.console = Object.freeze({
    log: line("log"),
    info: line("info"),
    warn: line("warn"),
    error: line("error"),
    debug: line("debug"),
  });
  globalThis.require = (name) => {
    throw new Error(
      "require('" + String(name) + "'): Portcullis Actions cannot load modules; " +
        "put the code the Action needs in the Action itself"
    );
  };
  return Object.freeze(api);
})

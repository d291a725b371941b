// Seed 003's server.js ("Calling an API", vanilla JS + auth0-spa-js), with express-jwt and
// jwks-rsa configured exactly as there. Added, marked "sample:" below: the routes of Auth0's
// Express API sample (/api/public, /api/private, /api/private-scoped, with CORS as the AngularJS
// sample's api.js has it), and file locations that can come from the environment so that one
// server can serve any of the SPA samples.
const express = require("express");
const jwt = require("express-jwt");
const jwksRsa = require("jwks-rsa");
const jwtAuthz = require("express-jwt-authz"); // sample: /api/private-scoped
const cors = require("cors"); // sample: the SPAs on other ports call /api/*
const { join, resolve } = require("path");
const fs = require("fs");

// sample: AUTH_CONFIG, STATIC_DIR and INDEX_FILE as the Rust sample API reads them.
const authConfigFile = resolve(process.env.AUTH_CONFIG || join(__dirname, "auth_config.json"));
const staticDir = resolve(process.env.STATIC_DIR || join(__dirname, "public"));
const indexFile = resolve(
  process.env.INDEX_FILE ||
    (fs.existsSync(join(__dirname, "index.html")) ? join(__dirname, "index.html") : join(staticDir, "index.html"))
);
const authConfig = require(authConfigFile);

// The tutorial writes `https://${authConfig.domain}`: an Auth0 domain is a host name served over
// https. A domain that already names its scheme (Portcullis on http://localhost:4000) is used as
// it is, the rule auth0-spa-js applies to the same `domain` value. See README.md.
const domainUrl = /^https?:\/\//i.test(authConfig.domain)
  ? authConfig.domain.replace(/\/+$/, "")
  : `https://${authConfig.domain}`;

const app = express();

// Serve assets from the /public folder
app.use(express.static(staticDir));

// sample: CORS for the API routes (the AngularJS sample's api.js uses cors() the same way)
app.use("/api", cors());

// Create the JWT validation middleware
const checkJwt = jwt({
  secret: jwksRsa.expressJwtSecret({
    cache: true,
    rateLimit: true,
    jwksRequestsPerMinute: 5,
    jwksUri: `${domainUrl}/.well-known/jwks.json`
  }),

  audience: authConfig.audience,
  issuer: `${domainUrl}/`,
  algorithm: ["RS256"]
});

// sample: the three routes of Auth0's Express API sample
app.get("/api/public", (req, res) => {
  res.json({
    message: "Hello from a public endpoint! You don't need to be authenticated to see this."
  });
});

app.get("/api/private", checkJwt, (req, res) => {
  res.json({
    message: "Hello from a private endpoint! You need to be authenticated to see this."
  });
});

const checkScopes = jwtAuthz(["read:messages"]);

app.get("/api/private-scoped", checkJwt, checkScopes, (req, res) => {
  res.json({
    message:
      "Hello from a private endpoint! You need to be authenticated and have a scope of read:messages to see this."
  });
});

// Create an endpoint that uses the above middleware to
// protect this route from unauthorized requests
app.get("/api/external", checkJwt, (req, res) => {
  res.send({
    msg: "Your access token was successfully validated!"
  });
});

// Serve the auth configuration file
app.get("/auth_config.json", (req, res) => {
  res.sendFile(authConfigFile);
});

// Serve the index page to everything else
app.get("/*", (req, res) => {
  res.sendFile(indexFile);
});

// Error handler
app.use(function(err, req, res, next) {
  if (err.name === "UnauthorizedError") {
    return res.status(401).send({ msg: "Invalid token" });
  }

  next(err, req, res);
});

module.exports = app;

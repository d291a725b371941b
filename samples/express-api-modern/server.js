// The seed's Express API (../express-api) on the current majors: express-jwt 8 and jwks-rsa 3.
// Same routes, same files, same bodies; what changes is what an API moved to PS256 or ES256
// needs (see README.md): jwks-rsa 3 reads RSA and EC keys from the JWKS, and express-jwt 8
// (jsonwebtoken 9) checks RSA-PSS and ECDSA signatures, for exactly the algorithms listed.
const express = require("express");
const { expressjwt } = require("express-jwt");
const jwksRsa = require("jwks-rsa");
const jwtAuthz = require("express-jwt-authz");
const cors = require("cors");
const { join, resolve } = require("path");
const fs = require("fs");

const authConfigFile = resolve(process.env.AUTH_CONFIG || join(__dirname, "auth_config.json"));
const staticDir = resolve(process.env.STATIC_DIR || join(__dirname, "public"));
const indexFile = resolve(
  process.env.INDEX_FILE ||
    (fs.existsSync(join(__dirname, "index.html")) ? join(__dirname, "index.html") : join(staticDir, "index.html"))
);
const authConfig = require(authConfigFile);

// A domain that names its scheme (Portcullis on http://localhost:4000) is used as it is; a bare
// Auth0 host name gets https://, as in the seed.
const domainUrl = /^https?:\/\//i.test(authConfig.domain)
  ? authConfig.domain.replace(/\/+$/, "")
  : `https://${authConfig.domain}`;

const app = express();

app.use(express.static(staticDir));
app.use("/api", cors());

const checkJwt = expressjwt({
  secret: jwksRsa.expressJwtSecret({
    cache: true,
    rateLimit: true,
    jwksRequestsPerMinute: 5,
    jwksUri: `${domainUrl}/.well-known/jwks.json`
  }),
  audience: authConfig.audience,
  issuer: `${domainUrl}/`,
  // Auth0's asymmetric algorithms. HS256 stays out: its key is a shared secret, never in the JWKS.
  algorithms: ["RS256", "PS256", "ES256"]
});

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

// express-jwt 7 and later put the claims in `req.auth`, not `req.user`.
const checkScopes = jwtAuthz(["read:messages"], { customUserKey: "auth" });

app.get("/api/private-scoped", checkJwt, checkScopes, (req, res) => {
  res.json({
    message:
      "Hello from a private endpoint! You need to be authenticated and have a scope of read:messages to see this."
  });
});

app.get("/api/external", checkJwt, (req, res) => {
  res.send({
    msg: "Your access token was successfully validated!"
  });
});

app.get("/auth_config.json", (req, res) => {
  res.sendFile(authConfigFile);
});

app.get("/*", (req, res) => {
  res.sendFile(indexFile);
});

app.use(function(err, req, res, next) {
  if (err.name === "UnauthorizedError") {
    return res.status(401).send({ msg: "Invalid token" });
  }

  next(err, req, res);
});

module.exports = app;

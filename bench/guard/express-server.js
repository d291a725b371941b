// The tutorial's API server (seed 003, "Calling an API"), with the guard configured exactly as
// there: express-jwt + jwks-rsa, cache, rateLimit, 5 JWKS requests per minute, audience,
// issuer, RS256. Two changes, both needed to run it on loopback: the issuer and JWKS URL come
// from auth_config.json's `domain` with an http:// scheme, and the option is spelled
// `algorithms` (the seed's `algorithm` makes express-jwt 6 throw "algorithms should be set").
// express.static and the index.html fallback are left out: the benchmark measures the guard,
// and a filesystem lookup in front of every request would only slow Express down.
//
// EXPRESS_JWT=8 runs the same server on the current majors, express-jwt 8 + jwks-rsa 3 (what
// the seed's `npm install express-jwt jwks-rsa` fetches today; express-jwt 7 renamed the export
// to `expressjwt`, so the seed's code itself needs 6 or older).
const express = require("express");
const current = process.env.EXPRESS_JWT === "8";
const jwt = current ? require("express-jwt-8").expressjwt : require("express-jwt");
const jwksRsa = current ? require("jwks-rsa-3") : require("jwks-rsa");
const { join } = require("path");
const authConfig = require(join(process.cwd(), "auth_config.json"));

const app = express();

const checkJwt = jwt({
  secret: jwksRsa.expressJwtSecret({
    cache: true,
    rateLimit: true,
    jwksRequestsPerMinute: 5,
    jwksUri: `${authConfig.domain}/.well-known/jwks.json`,
  }),

  audience: authConfig.audience,
  issuer: `${authConfig.domain}/`,
  algorithms: ["RS256"],
});

app.get("/api/external", checkJwt, (req, res) => {
  res.send({
    msg: "Your access token was successfully validated!",
  });
});

app.use(function (err, req, res, next) {
  if (err.name === "UnauthorizedError") {
    return res.status(401).send({ msg: "Invalid token" });
  }

  next(err, req, res);
});

const port = Number(process.env.PORT || 3000);
app.listen(port, "127.0.0.1", () => console.log(`express listening on 127.0.0.1:${port}`));

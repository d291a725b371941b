//! Rate limits per client address on the endpoints a flood goes for: the token endpoint, the
//! hosted login and sign-up forms, `/userinfo` and the Management API.
//!
//! Each group has its own limit of N requests per second per address, with bursts of up to N
//! (GCRA, `governor`); IPv6 addresses count per /64, which one subscriber gets. The router
//! applies them (`routes::limits`) to the address resolved once per request, so behind a load
//! balancer the limits apply per client only when the balancer is a trusted proxy.

use std::{
    net::{IpAddr, Ipv6Addr},
    num::NonZeroU32,
    str::FromStr,
    time::Duration,
};

use governor::{
    clock::{Clock, DefaultClock},
    middleware::StateInformationMiddleware,
    state::keyed::DefaultKeyedStateStore,
    Quota, RateLimiter,
};

/// The endpoints that share one limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RateGroup {
    /// `POST /oauth/token` and `POST /oauth/revoke`.
    Token,
    /// `POST /u/login`.
    Login,
    /// `POST /u/signup`.
    Signup,
    /// `/userinfo`.
    Userinfo,
    /// The Management API, `/api/v2/*`.
    Management,
}

impl RateGroup {
    pub const ALL: [RateGroup; 5] = [
        RateGroup::Token,
        RateGroup::Login,
        RateGroup::Signup,
        RateGroup::Userinfo,
        RateGroup::Management,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RateGroup::Token => "token",
            RateGroup::Login => "login",
            RateGroup::Signup => "signup",
            RateGroup::Userinfo => "userinfo",
            RateGroup::Management => "management",
        }
    }
}

impl FromStr for RateGroup {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        RateGroup::ALL
            .into_iter()
            .find(|group| group.as_str() == text.trim())
            .ok_or_else(|| {
                format!("rate limit group {text:?}: expected token, login, signup, userinfo or management")
            })
    }
}

/// Requests per second per client address, by group; 0 turns a group's limit off.
///
/// The defaults leave room for the traffic one address legitimately sends: machine clients
/// behind one address (or a benchmark on loopback) ask for thousands of tokens a second, while
/// a person submits a login form a few times a minute, and an office behind one NAT address
/// is many people.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimits {
    pub token: u32,
    pub login: u32,
    pub signup: u32,
    pub userinfo: u32,
    pub management: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            token: 20_000,
            login: 50,
            signup: 20,
            userinfo: 2_000,
            management: 500,
        }
    }
}

impl RateLimits {
    pub fn get(&self, group: RateGroup) -> u32 {
        match group {
            RateGroup::Token => self.token,
            RateGroup::Login => self.login,
            RateGroup::Signup => self.signup,
            RateGroup::Userinfo => self.userinfo,
            RateGroup::Management => self.management,
        }
    }

    pub fn set(&mut self, group: RateGroup, per_second: u32) {
        let field = match group {
            RateGroup::Token => &mut self.token,
            RateGroup::Login => &mut self.login,
            RateGroup::Signup => &mut self.signup,
            RateGroup::Userinfo => &mut self.userinfo,
            RateGroup::Management => &mut self.management,
        };
        *field = per_second;
    }

    /// Applies `GROUP=N` (`login=20`), as the command line and the environment give it.
    pub fn apply(&mut self, entry: &str) -> Result<(), String> {
        let (group, value) = entry
            .split_once('=')
            .ok_or_else(|| format!("rate limit {entry:?}: expected GROUP=N, as in login=20"))?;
        let per_second = value.trim().parse::<u32>().map_err(|_| {
            format!("rate limit {entry:?}: N must be a whole number of requests per second")
        })?;
        self.set(group.parse()?, per_second);
        Ok(())
    }
}

type Limiter =
    RateLimiter<IpAddr, DefaultKeyedStateStore<IpAddr>, DefaultClock, StateInformationMiddleware>;

/// The limiters of a running server, one per group with a limit.
pub struct Limiters {
    by_group: Vec<(RateGroup, Limiter)>,
}

/// What a limiter decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The group has no limit.
    Unlimited,
    /// Allowed; the bucket is full again in `full_in`.
    Allowed {
        limit: u32,
        remaining: u32,
        full_in: Duration,
    },
    /// Refused until `wait` has passed; the bucket is full again in `full_in`.
    Refused {
        limit: u32,
        wait: Duration,
        full_in: Duration,
    },
}

impl Limiters {
    pub fn new(limits: &RateLimits) -> Self {
        let by_group = RateGroup::ALL
            .into_iter()
            .filter_map(|group| {
                let per_second = NonZeroU32::new(limits.get(group))?;
                let limiter = RateLimiter::keyed(Quota::per_second(per_second))
                    .with_middleware::<StateInformationMiddleware>();
                Some((group, limiter))
            })
            .collect();
        Limiters { by_group }
    }

    /// Counts a request of `group` from `address`.
    pub fn check(&self, group: RateGroup, address: IpAddr) -> Verdict {
        let Some((_, limiter)) = self.by_group.iter().find(|(g, _)| *g == group) else {
            return Verdict::Unlimited;
        };
        match limiter.check_key(&bucket(address)) {
            Ok(snapshot) => {
                let quota = snapshot.quota();
                let limit = quota.burst_size().get();
                let remaining = snapshot.remaining_burst_capacity();
                Verdict::Allowed {
                    limit,
                    remaining,
                    full_in: quota.replenish_interval() * (limit - remaining.min(limit)),
                }
            }
            Err(refused) => {
                let quota = refused.quota();
                let limit = quota.burst_size().get();
                let wait = refused.wait_time_from(limiter.clock().now());
                Verdict::Refused {
                    limit,
                    wait,
                    full_in: wait + quota.replenish_interval() * (limit - 1),
                }
            }
        }
    }

    /// Forgets addresses whose bucket is full again, so that memory follows the addresses
    /// active lately, not every address ever seen.
    pub fn forget_idle(&self) {
        for (_, limiter) in &self.by_group {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
}

/// The key an address counts under: an IPv4 address, or an IPv6 address's /64.
fn bucket(address: IpAddr) -> IpAddr {
    match address.to_canonical() {
        IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !u128::from(u64::MAX))),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_parse_by_group() {
        let mut limits = RateLimits::default();
        limits.apply("login=3").unwrap();
        limits.apply(" management = 0").unwrap();
        assert_eq!(limits.login, 3);
        assert_eq!(limits.management, 0);
        assert!(limits.apply("logins=3").is_err());
        assert!(limits.apply("login").is_err());
        assert!(limits.apply("login=-1").is_err());
    }

    #[test]
    fn a_burst_is_allowed_then_refused_per_address_and_ipv6_per_64() {
        let limits = RateLimits {
            login: 2,
            management: 0,
            ..RateLimits::default()
        };
        let limiters = Limiters::new(&limits);
        let one: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let same_64: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert!(matches!(
            limiters.check(RateGroup::Login, one),
            Verdict::Allowed {
                limit: 2,
                remaining: 1,
                ..
            }
        ));
        assert!(matches!(
            limiters.check(RateGroup::Login, same_64),
            Verdict::Allowed { remaining: 0, .. }
        ));
        let Verdict::Refused {
            limit: 2,
            wait,
            full_in,
        } = limiters.check(RateGroup::Login, one)
        else {
            panic!("the third request in a burst of two is refused");
        };
        assert!(wait > Duration::ZERO && wait <= Duration::from_millis(500));
        assert_eq!(full_in, wait + Duration::from_millis(500));
        assert!(matches!(
            limiters.check(RateGroup::Login, other),
            Verdict::Allowed { .. }
        ));
        assert_eq!(
            limiters.check(RateGroup::Management, one),
            Verdict::Unlimited
        );
    }
}

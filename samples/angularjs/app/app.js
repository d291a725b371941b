// app/app.js: the module and its configuration (seed 002).
(function () {

  'use strict';

  angular
    .module('app', ['auth0.auth0', 'angular-jwt', 'ui.router'])
    .config(config);

  config.$inject = [
    '$stateProvider',
    '$locationProvider',
    '$urlRouterProvider',
    'angularAuth0Provider',
    '$httpProvider',
    'jwtOptionsProvider',
    'AUTH_CONFIG'
  ];

  function config(
    $stateProvider,
    $locationProvider,
    $urlRouterProvider,
    angularAuth0Provider,
    $httpProvider,
    jwtOptionsProvider,
    AUTH_CONFIG
  ) {

    $stateProvider
      .state('home', {
        url: '/',
        controller: 'HomeController',
        templateUrl: 'app/homepage/homepage.html',
        controllerAs: 'vm'
      })
      .state('callback', {
        url: '/callback',
        controller: 'CallbackController',
        templateUrl: 'app/callback/callback.html',
        controllerAs: 'vm'
      })
      .state('ping', {
        url: '/ping',
        controller: 'PingController',
        templateUrl: 'app/ping/ping.html',
        controllerAs: 'vm'
      });

    var auth0Options = {
      clientID: AUTH_CONFIG.clientId,
      domain: AUTH_CONFIG.domain,
      responseType: 'token id_token',
      redirectUri: window.location.origin + '/callback',
      audience: AUTH_CONFIG.audience,
      scope: 'openid profile read:messages'
    };
    // auth0.js expects the ID token's issuer to be 'https://' + domain + '/'. For a domain given
    // with its scheme (http://localhost:4000), name the issuer with the documented override
    // (angular-auth0 hands these options to auth0.WebAuth unchanged).
    if (/^https?:\/\//.test(AUTH_CONFIG.domain)) {
      auth0Options.overrides = { __token_issuer: AUTH_CONFIG.domain.replace(/\/+$/, '') + '/' };
    }

    // Initialization for the angular-auth0 library
    angularAuth0Provider.init(auth0Options);

    jwtOptionsProvider.config({
      tokenGetter: function() {
        return localStorage.getItem('access_token');
      },
      whiteListedDomains: ['localhost']
    });

    $httpProvider.interceptors.push('jwtInterceptor');

    $urlRouterProvider.otherwise('/');

    $locationProvider.hashPrefix('');

    // Comment out the line below to run the app
    // without HTML5 mode (will use hashes in routes)
    $locationProvider.html5Mode(true);
  }

})();

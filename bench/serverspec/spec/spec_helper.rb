# Serverspec over SSH, as `serverspec-init` sets it up, reading the fleet's ssh_config
# (HostName, Port, User, IdentityFile, UserKnownHostsFile, StrictHostKeyChecking).
require 'serverspec'
require 'net/ssh'
require 'json'

set :backend, :ssh
# The fleet's user is not root; specinfra would otherwise wrap every command in sudo.
set :disable_sudo, true

host = ENV.fetch('TARGET_HOST')
options = Net::SSH::Config.for(host, [ENV.fetch('BENCH_SSH_CONFIG')])
set :host, options[:host_name] || host
set :ssh_options, options

# Per-host vars (appRoot, statusPort) and fleet-wide ones, written by bench/fleet.ts.
FLEET = JSON.parse(File.read(ENV.fetch('BENCH_FLEET')))
VARS = FLEET.fetch('vars').merge(FLEET.fetch('hosts').fetch(host))

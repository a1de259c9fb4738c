# The benchmark's 22 deploy postconditions, the same checks as bench/specs/deploy.spec.ts
# and bench/testinfra/test_deploy.py: one RSpec example per check.
require_relative 'spec_helper'

app = VARS.fetch('appRoot')
releases = "#{app}/releases"
revision_file = "#{app}/current/REVISION"
status_port = VARS.fetch('statusPort')

describe file("#{app}/current") do
  it { should be_symlink }
  its(:link_target) { should start_with "#{releases}/" }
  it { should be_directory }
end

describe file(revision_file) do
  it { should be_file }
  its(:content) { should match(/\A[0-9a-f]{7,40}\n\z/) }
  its(:content) { should eq "#{VARS.fetch('revision')}\n" }
  it { should be_mode 644 }
  it { should be_owned_by 'root' }
end

describe file(releases) do
  it { should be_directory }
  it { should be_mode 755 }
end

describe command("ls -1 #{releases} | wc -l") do
  its('stdout.to_i') { should be_between(1, 5) }
end

describe file("#{releases}/#{VARS.fetch('previousRelease')}/REVISION") do
  it { should be_file }
end

describe file("#{app}/shared/log") do
  it { should be_directory }
  it { should be_owned_by 'root' }
end

describe file("#{app}/current/public") do
  it { should be_directory }
end

describe file(app) do
  it { should be_grouped_into 'root' }
end

describe process('blog-app') do
  it { should be_running }
end

describe port(status_port) do
  it { should be_listening }
end

describe command("curl -fsS http://127.0.0.1:#{status_port}/health") do
  its(:stdout) { should match(/"status":"ok"/) }
end

describe command("curl -fsS 'http://127.0.0.1:#{status_port}/server-status?auto'") do
  its(:stdout) { should match(/^Total Accesses: [0-9]$/) }
end

describe package('bash') do
  it { should be_installed }
end

describe user('www-data') do
  it { should exist }
end

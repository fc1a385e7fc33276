// A real Kafka broker (KRaft, single node) and a Confluent-compatible Schema Registry (Apicurio)
// for tests and local runs, started as child JVMs from jars fetched off Maven Central (there is no
// Docker here). Every start uses random free ports and a throw-away directory, so parallel test
// files never collide; every child dies with us (stop(), process exit, SIGINT/SIGTERM, and a
// stdin watchdog for when we are killed outright).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { closeSync, existsSync, openSync, readdirSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { homedir, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Kafka, logLevel } from 'kafkajs'
import { KomboSyncError } from '../errors/kombo-sync-error.ts'

/** The versions fetched by infra/maven/pom.xml (passed to Maven, so this file is the one source). */
export const KAFKA_VERSION = '4.1.1'
export const APICURIO_VERSION = '3.3.3'
/** Apicurio 3.3.x is compiled for Java 21 (class file 65); Kafka 4.x brokers need Java 17. */
const KAFKA_MIN_JAVA = 17
const APICURIO_MIN_JAVA = 21
const STOP_GRACE_MS = 10_000
const READY_TIMEOUT_MS = 120_000

export const defaultStackCacheDir = (): string => join(homedir(), '.cache', 'kombo-sync', 'stack')

/** The stack could not be fetched or started; retrying only helps if the cause was transient. */
export class LocalStackError extends KomboSyncError {
  override name = 'LocalStackError'
  constructor(message: string, readonly retriable = false) {
    super(message)
  }
}

export interface StackPaths {
  kafkaLibs: string
  apicurioDir: string
}

export interface FetchOptions {
  /** Where the jars live (default ~/.cache/kombo-sync/stack). */
  cacheDir?: string
}

/**
 * Makes sure the Kafka jars and the unpacked Apicurio app are in the cache, fetching them with
 * Maven on first use (~210 MB). A directory lock keeps parallel test files from fetching twice.
 */
export async function ensureKafkaJars(options: FetchOptions = {}): Promise<StackPaths> {
  const cacheDir = options.cacheDir ?? defaultStackCacheDir()
  const paths: StackPaths = {
    kafkaLibs: join(cacheDir, `kafka-${KAFKA_VERSION}`, 'libs'),
    apicurioDir: join(cacheDir, `apicurio-${APICURIO_VERSION}`),
  }
  const complete = () =>
    existsSync(join(paths.kafkaLibs, `kafka_2.13-${KAFKA_VERSION}.jar`)) &&
    existsSync(join(paths.kafkaLibs, 'slf4j-simple-' + SLF4J_VERSION + '.jar')) &&
    existsSync(join(paths.apicurioDir, 'quarkus-run.jar'))
  if (complete()) return paths

  await mkdir(cacheDir, { recursive: true })
  const release = await lockDir(join(cacheDir, '.fetch.lock'))
  try {
    if (complete()) return paths
    const pom = fileURLToPath(new URL('./maven/pom.xml', import.meta.url))
    const args = [
      '-q', '-B', '-f', pom,
      `-Dstack.dir=${cacheDir}`,
      `-Dkafka.version=${KAFKA_VERSION}`,
      `-Dapicurio.version=${APICURIO_VERSION}`,
      `-Dslf4j.version=${SLF4J_VERSION}`,
      'process-resources',
    ]
    const run = spawnSync('mvn', args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
    if (run.error) throw new LocalStackError(`cannot run mvn (is Maven installed?): ${run.error.message}`)
    if (run.status !== 0) {
      throw new LocalStackError(`mvn failed (exit ${run.status}):\n${tail(run.stdout + run.stderr, 40)}`, true)
    }
    if (!complete()) throw new LocalStackError(`mvn succeeded but ${cacheDir} is missing expected files`)
    return paths
  } finally {
    await release()
  }
}
const SLF4J_VERSION = '2.0.17'

export interface RunningKafka {
  brokers: string[]
  /** The JVM's process id (for measurements). */
  pid: number
  logFile: string
  stop(): Promise<void>
}

export interface KafkaOptions extends FetchOptions {
  /**
   * Log directory; default a fresh directory in os.tmpdir(), removed on stop(). A directory given
   * here is kept: starting again with the same dataDir and port restarts the same broker, with its
   * topics, records and committed offsets.
   */
  dataDir?: string
  /** Broker port; default a random free one. The controller always gets a random free port. */
  port?: number
  /** A `java` (>= 17) to use; default the first suitable one found. */
  java?: string
}

/** Starts a single-node KRaft broker and resolves once it answers `describeCluster`. */
export async function startKafka(options: KafkaOptions = {}): Promise<RunningKafka> {
  return retryOnPortRace(options.port, () => startKafkaOnce(options))
}

async function startKafkaOnce(options: KafkaOptions): Promise<RunningKafka> {
  const { kafkaLibs } = await ensureKafkaJars(options)
  const java = options.java ?? findJava(KAFKA_MIN_JAVA)
  const ownDir = options.dataDir === undefined
  const dir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'kombo-sync-kafka-')))
  await mkdir(dir, { recursive: true })
  const port = options.port ?? (await freePort())
  const configFile = join(dir, 'server.properties')
  const logFile = join(dir, 'kafka.log')
  // A data dir that was formatted before is a broker being restarted: keep its cluster id (the
  // log refuses another) and its controller port (the quorum voter it recorded).
  const restarting = existsSync(join(dir, 'data', 'meta.properties'))
  const previousController = restarting
    ? /controller\.quorum\.voters=1@127\.0\.0\.1:(\d+)/.exec(await readFile(configFile, 'utf8').catch(() => ''))?.[1]
    : undefined
  const controllerPort = previousController ? Number(previousController) : await freePort()
  await writeFile(configFile, kafkaProperties({ port, controllerPort, logDirs: join(dir, 'data') }))

  const classpath = join(kafkaLibs, '*')
  if (!restarting) {
    // A cluster id is 16 random bytes in URL-safe base64 (what `StorageTool random-uuid` prints);
    // making it here saves a JVM start. `--cluster-id=` because an id may begin with '-'.
    const clusterId = randomBytes(16).toString('base64url')
    const format = spawnSync(
      java,
      ['-cp', classpath, 'kafka.tools.StorageTool', 'format', `--cluster-id=${clusterId}`, '--config', configFile, '--ignore-formatted'],
      { encoding: 'utf8' },
    )
    if (format.status !== 0) {
      throw new LocalStackError(`kafka storage format failed (exit ${format.status}):\n${tail(format.stdout + format.stderr, 30)}`)
    }
  }

  const child = startJvm(java, ['-Xmx512m', '-Xms128m', '-cp', classpath, 'kafka.Kafka', configFile], logFile)
  const brokers = [`127.0.0.1:${port}`]
  const stop = async () => {
    await stopChild(child)
    if (ownDir) await rm(dir, { recursive: true, force: true })
  }
  try {
    await waitUntil('Kafka', child, logFile, () => kafkaAnswers(brokers))
  } catch (err) {
    await stop()
    throw err
  }
  return { brokers, pid: jvmPid(child), logFile, stop }
}

export interface RunningSchemaRegistry {
  /** The Confluent-compatible API, e.g. http://127.0.0.1:PORT/apis/ccompat/v7 */
  url: string
  pid: number
  logFile: string
  stop(): Promise<void>
}

export interface SchemaRegistryOptions extends FetchOptions {
  port?: number
  /**
   * Keep the registry's storage (H2) in files here, so a registry stopped and started again with
   * the same dataDir and port still knows every schema id, as a production registry does. Default:
   * in-memory storage in a throw-away directory, removed on stop().
   */
  dataDir?: string
  /** A `java` (>= 21) to use; default the first suitable one found. */
  java?: string
}

/** Starts Apicurio Registry (in-memory storage) and resolves once its ccompat API answers. */
export async function startSchemaRegistry(options: SchemaRegistryOptions = {}): Promise<RunningSchemaRegistry> {
  return retryOnPortRace(options.port, () => startSchemaRegistryOnce(options))
}

async function startSchemaRegistryOnce(options: SchemaRegistryOptions): Promise<RunningSchemaRegistry> {
  const { apicurioDir } = await ensureKafkaJars(options)
  const java = options.java ?? findJava(APICURIO_MIN_JAVA)
  const ownDir = options.dataDir === undefined
  const dir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'kombo-sync-registry-')))
  await mkdir(dir, { recursive: true })
  const logFile = join(dir, 'apicurio.log')
  const storage = ownDir ? [] : [`-Dapicurio.datasource.url=jdbc:h2:file:${join(dir, 'registry')}`]
  const port = options.port ?? (await freePort())
  const managementPort = await freePort()
  const child = startJvm(
    java,
    [
      '-Xmx512m',
      ...storage,
      '-Dquarkus.http.host=127.0.0.1',
      `-Dquarkus.http.port=${port}`,
      '-Dquarkus.management.host=127.0.0.1',
      `-Dquarkus.management.port=${managementPort}`,
      '-jar',
      join(apicurioDir, 'quarkus-run.jar'),
    ],
    logFile,
    dir,
  )
  const url = `http://127.0.0.1:${port}/apis/ccompat/v7`
  const stop = async () => {
    await stopChild(child)
    if (ownDir) await rm(dir, { recursive: true, force: true })
  }
  try {
    await waitUntil('Schema Registry', child, logFile, async () => (await fetch(`${url}/subjects`)).ok)
  } catch (err) {
    await stop()
    throw err
  }
  return { url, pid: jvmPid(child), logFile, stop }
}

function kafkaProperties(p: { port: number; controllerPort: number; logDirs: string }): string {
  return [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${p.controllerPort}`,
    'controller.listener.names=CONTROLLER',
    `listeners=PLAINTEXT://127.0.0.1:${p.port},CONTROLLER://127.0.0.1:${p.controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${p.port}`,
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    `log.dirs=${p.logDirs}`,
    // One node: every internal topic has one replica. One partition each, because creating the
    // default 50 offset partitions makes the first consumer group wait for the coordinator.
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'transaction.state.log.num.partitions=1',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    'share.coordinator.state.topic.num.partitions=1',
    'group.initial.rebalance.delay.ms=0',
    // The adapters create their topics with explicit partitions and configs; a typo must fail.
    'auto.create.topics.enable=false',
    '',
  ].join('\n')
}

async function kafkaAnswers(brokers: string[]): Promise<boolean> {
  const admin = new Kafka({
    brokers,
    clientId: 'local-stack-probe',
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1000,
    retry: { retries: 0 },
  }).admin()
  try {
    await admin.connect()
    const cluster = await admin.describeCluster()
    return cluster.brokers.length > 0
  } finally {
    await admin.disconnect().catch(() => {})
  }
}

// ---- child JVMs ----------------------------------------------------------------------------

const children = new Set<ChildProcess>()
let hooksInstalled = false

/**
 * Runs the JVM under `sh` in its own process group. SIGTERM to the wrapper is forwarded to the JVM
 * (a graceful shutdown) and the wrapper waits for it; SIGKILL goes to the whole group. A watchdog
 * reading our pipe sends SIGTERM to the JVM when that pipe closes, i.e. when this Node process is
 * gone, even after SIGKILL. (Background jobs of `sh` get /dev/null as stdin, hence fd 3.)
 */
const WATCHDOG = [
  'exec 3<&0',
  '"$@" </dev/null & J=$!',
  '(cat <&3 >/dev/null; kill -TERM $J 2>/dev/null) &',
  "trap 'kill -TERM $J 2>/dev/null' TERM INT",
  'while kill -0 $J 2>/dev/null; do wait $J; done',
].join('\n')

function startJvm(java: string, args: string[], logFile: string, cwd?: string): ChildProcess {
  installExitHooks()
  const log = openSync(logFile, 'a')
  const child = spawn('sh', ['-c', WATCHDOG, 'jvm', java, ...args], {
    detached: true,
    stdio: ['pipe', log, log],
    cwd,
  })
  closeSync(log)
  children.add(child)
  child.once('exit', () => children.delete(child))
  return child
}

/** The JVM is the `sh` wrapper's child; measurements want its pid (falls back to the wrapper's). */
function jvmPid(child: ChildProcess): number {
  const out = spawnSync('pgrep', ['-P', String(child.pid), '-f', 'java'], { encoding: 'utf8' }).stdout
  const pid = Number(out.trim().split('\n')[0])
  return Number.isInteger(pid) && pid > 0 ? pid : child.pid!
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal)
  } catch {
    // already gone
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  try {
    child.kill('SIGTERM') // the wrapper forwards it to the JVM and waits for it
  } catch {
    // already gone
  }
  const timer = setTimeout(() => signalGroup(child, 'SIGKILL'), STOP_GRACE_MS)
  await exited
  clearTimeout(timer)
  // The wrapper has exited; make sure nothing of its group (JVM, watchdog) outlives it.
  signalGroup(child, 'SIGKILL')
  child.stdin?.destroy()
}

function installExitHooks(): void {
  if (hooksInstalled) return
  hooksInstalled = true
  process.once('exit', () => {
    for (const child of children) signalGroup(child, 'SIGKILL')
  })
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    const onSignal = () => {
      for (const child of children) child.kill('SIGTERM')
      // Nobody else handles the signal: restore the default (exit) behaviour.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal)
    }
    process.once(signal, onSignal)
  }
}

async function waitUntil(
  what: string,
  child: ChildProcess,
  logFile: string,
  ready: () => Promise<boolean>,
): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS
  let lastError = ''
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new LocalStackError(`${what} exited during start-up (${child.exitCode ?? child.signalCode}); log ${logFile}:\n${await logTail(logFile)}`)
    }
    try {
      if (await ready()) return
    } catch (err) {
      lastError = (err as Error).message
    }
    await new Promise((r) => setTimeout(r, 250))
  }
  throw new LocalStackError(
    `${what} not ready after ${READY_TIMEOUT_MS / 1000}s (${lastError}); log ${logFile}:\n${await logTail(logFile)}`,
    true,
  )
}

/**
 * A free port found by freePort() can be taken by another process before the JVM binds it; with
 * ports of our own choosing, one more try on fresh ports settles that. A port the caller chose
 * is not retried: the conflict is theirs to fix.
 */
async function retryOnPortRace<T>(fixedPort: number | undefined, start: () => Promise<T>): Promise<T> {
  try {
    return await start()
  } catch (err) {
    if (fixedPort !== undefined || !/Address already in use|BindException/.test((err as Error).message)) throw err
    return start()
  }
}

// ---- helpers -------------------------------------------------------------------------------

/** A port the OS just handed out; tiny race with other processes, acceptable for tests. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))))
    })
  })
}

const javaVersionCache = new Map<string, number | null>()

function javaMajor(java: string): number | null {
  if (javaVersionCache.has(java)) return javaVersionCache.get(java)!
  const run = spawnSync(java, ['-version'], { encoding: 'utf8' })
  const match = /version "(\d+)(?:\.(\d+))?/.exec(`${run.stderr ?? ''}${run.stdout ?? ''}`)
  const major = match ? (match[1] === '1' ? Number(match[2]) : Number(match[1])) : null
  javaVersionCache.set(java, major)
  return major
}

/** The `java` on PATH if new enough, else the newest suitable JDK under /usr/lib/jvm or /opt. */
export function findJava(minMajor: number): string {
  const candidates = ['java']
  for (const root of ['/usr/lib/jvm', '/opt/java', '/opt']) {
    try {
      for (const name of readdirSyncSafe(root)) candidates.push(join(root, name, 'bin', 'java'))
    } catch {
      // no such root
    }
  }
  const suitable = candidates
    .filter((c) => c === 'java' || existsSync(c))
    .map((c) => ({ c, major: javaMajor(c) }))
    .filter((x): x is { c: string; major: number } => x.major !== null && x.major >= minMajor)
  if (suitable.length === 0) throw new LocalStackError(`no Java ${minMajor}+ found (looked at PATH, /usr/lib/jvm, /opt)`)
  // Prefer PATH's java when it qualifies; otherwise the newest installed one.
  return suitable.find((x) => x.c === 'java')?.c ?? suitable.sort((a, b) => b.major - a.major)[0]!.c
}

function readdirSyncSafe(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir) : []
}

/** A lock held by creating a directory (atomic); a lock whose owner process is gone is taken over. */
async function lockDir(path: string): Promise<() => Promise<void>> {
  const deadline = Date.now() + 15 * 60_000 // a first fetch takes well under this
  while (Date.now() < deadline) {
    try {
      await mkdir(path)
      await writeFile(join(path, 'owner'), String(process.pid))
      return () => rm(path, { recursive: true, force: true })
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      const owner = Number(await readFile(join(path, 'owner'), 'utf8').catch(() => '0'))
      const entries = await readdir(path).catch(() => [])
      if (entries.length > 0 && !(owner > 0 && isAlive(owner))) await rm(path, { recursive: true, force: true })
      await new Promise((r) => setTimeout(r, 500))
    }
  }
  throw new LocalStackError(`timed out waiting for the fetch lock ${path}`, true)
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

function tail(text: string, lines: number): string {
  return text.split('\n').slice(-lines).join('\n')
}

/** The log's first error lines (the cause; the tail is mostly shutdown noise) and its last lines. */
async function logTail(file: string, lines = 25): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '(no log)')
  const errors = text.split('\n').filter((l) => /\b(ERROR|FATAL)\b|Exception:/.test(l)).slice(0, 8)
  return `${errors.length ? `first errors:\n${errors.join('\n')}\n` : ''}last lines:\n${tail(text, lines)}`
}

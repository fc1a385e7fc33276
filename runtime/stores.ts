// Chooses one adapter per port from the configuration: the embedded database for everything by
// default; Kafka + Schema Registry, EventStoreDB and PostgreSQL when their settings are given.
import { mkdirSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import type { Config } from '../config/config.ts'
import type { SqlDatabase } from '../sql/database.ts'
import { openPgliteDatabase } from '../sql/pglite.ts'
import { acquireDataDirLock } from '../sql/data-dir-lock.ts'
import { openPostgresDatabase } from '../sql/postgres.ts'
import type { EventStore } from '../processors/eventstore/port.ts'
import { openSqlEventStore } from '../processors/eventstore/sql.ts'
import { openEsdbEventStore } from '../processors/eventstore/esdb.ts'
import { withPersonalDataEncryption } from '../processors/eventstore/encrypting.ts'
import { openSqlPersonalDataKeys, type PersonalDataKeys } from '../processors/eventstore/personal-data-keys.ts'
import type { ChangeLog, DeadLetterStore } from '../producers/changelog/port.ts'
import { openSqlChangeLog } from '../producers/changelog/sql.ts'
import { openSqlDeadLetterStore } from '../producers/changelog/sql-dead-letters.ts'
import { SqlSyncStateStore } from '../producers/sync-state/sql.ts'
import type { SyncStateStore } from '../producers/sync-state/port.ts'
import { openSqlViewStore, type SqlViewStore } from '../projections/viewstore/sql.ts'
import { openSqlHoldStore, type HoldStore } from '../processors/mass-deactivation/hold-store.ts'
import { openSqlTenantStore, type SqlTenantStore } from '../tenants/sql.ts'
import { openSqlRelinkStore, type SqlRelinkStore } from '../producers/relink/relink-store.ts'

export interface Stores {
  db: SqlDatabase
  /** Decrypts employee streams on read and encrypts them on append (crypto-shredding, see docs/operations.md). */
  eventStore: EventStore
  /** The adapter itself: employee event data as stored, i.e. encrypted (tests, audits). */
  rawEventStore: EventStore
  personalDataKeys: PersonalDataKeys
  changeLog: ChangeLog
  deadLetters: DeadLetterStore
  syncState: SyncStateStore
  views: SqlViewStore
  /** Mass-deactivation holds (processors/mass-deactivation/). */
  holds: HoldStore
  /** The tenants, their token hashes and audit trail (always the SQL database: every role reads it). */
  tenants: SqlTenantStore
  /** Re-links of reconnected integrations and their id aliases (producers/relink). */
  relinks: SqlRelinkStore
  /** Which adapter serves each port, for the start-up log and /health/ready. */
  describe: Record<'changeLog' | 'eventStore' | 'views', string>
  close(): Promise<void>
}

export async function openStores(config: Config): Promise<Stores> {
  const db = await openDatabase(config)
  const closers: Array<() => Promise<void>> = [() => db.close()]
  try {
    const rawEventStore = config.eventStoreConnectionString
      ? openEsdbEventStore(config.eventStoreConnectionString)
      : await openSqlEventStore(db)
    closers.unshift(() => rawEventStore.close())
    const personalDataKeys = await openSqlPersonalDataKeys(db)
    const eventStore = withPersonalDataEncryption(rawEventStore, personalDataKeys)

    let changeLog: ChangeLog
    let deadLetters: DeadLetterStore
    if (config.kafka) {
      const kafka = { brokers: config.kafka.brokers, registryUrl: config.kafka.registryUrl, clientId: `kombo-sync-${config.role}` }
      // Loaded only when configured: the embedded default never loads the Kafka client.
      const { openKafkaChangeLog } = await import('../producers/changelog/kafka.ts')
      const { openKafkaDeadLetterStore } = await import('../producers/changelog/kafka-dead-letters.ts')
      changeLog = await openKafkaChangeLog({ ...kafka, partitions: config.kafka.partitions, topicPrefix: config.kafka.topicPrefix })
      deadLetters = await openKafkaDeadLetterStore({ ...kafka, topicPrefix: config.kafka.topicPrefix })
      closers.unshift(() => deadLetters.close())
    } else {
      changeLog = await openSqlChangeLog(db)
      deadLetters = await openSqlDeadLetterStore(db)
    }
    closers.unshift(() => changeLog.close())

    const syncState = new SqlSyncStateStore(db)
    await syncState.migrate()
    const views = await openSqlViewStore(db)
    const holds = await openSqlHoldStore(db)
    const tenants = await openSqlTenantStore(db)
    const relinks = await openSqlRelinkStore(db)
    return {
      db,
      eventStore,
      rawEventStore,
      personalDataKeys,
      changeLog,
      deadLetters,
      syncState,
      views,
      holds,
      tenants,
      relinks,
      describe: {
        changeLog: config.kafka ? `kafka ${config.kafka.brokers.join(',')}` : 'sql table',
        eventStore: config.eventStoreConnectionString ? 'eventstoredb' : 'sql',
        views: config.databaseUrl ? 'postgresql' : `embedded (${join(config.dataDir, 'db')})`,
      },
      async close() {
        for (const close of closers) await close().catch(() => {})
      },
    }
  } catch (err) {
    for (const close of closers) await close().catch(() => {})
    throw err
  }
}

async function openDatabase(config: Config): Promise<SqlDatabase> {
  if (config.databaseUrl) return openPostgresDatabase(config.databaseUrl)
  const dir = join(config.dataDir, 'db')
  if (!existsSync(config.dataDir)) mkdirSync(config.dataDir, { recursive: true })
  // Before PGlite touches the directory: a second process on it would corrupt it (sql/data-dir-lock.ts).
  const lock = acquireDataDirLock(config.dataDir)
  try {
    const db = await openPgliteDatabase(dir)
    return {
      ...db,
      async close() {
        try {
          await db.close()
        } finally {
          lock.release()
        }
      },
    }
  } catch (err) {
    lock.release()
    throw err
  }
}

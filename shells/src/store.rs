//! The durable store of the core's [`Record`]s: one redb file.
//!
//! Tables:
//!
//! * `framework`: key `"id"` → the framework id Mesos assigned (absent: none yet, or forgotten);
//! * `containers`: the container id (64 hex digits) → the JSON of its [`Container`];
//! * `meta`: key `"format"` → the layout version ([`FORMAT_VERSION`]), so that a store written
//!   by a newer mesoswarm is refused instead of misread.
//!
//! Records are upserts: [`Store::write_batch`] applies a batch in order in one transaction
//! that is durable when it returns. Every call here is blocking file I/O: the driver calls
//! the store from its own thread (see `driver::store_writer`), never on the async executor.

use std::path::{Path, PathBuf};

use mesoswarm_core::container::Container;
use mesoswarm_core::ids::ContainerId;
use mesoswarm_core::Record;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};

const FRAMEWORK: TableDefinition<&str, &str> = TableDefinition::new("framework");
const CONTAINERS: TableDefinition<&str, &[u8]> = TableDefinition::new("containers");
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");

const FRAMEWORK_ID_KEY: &str = "id";
const FORMAT_KEY: &str = "format";

/// The layout version this build writes and reads.
pub const FORMAT_VERSION: u64 = 1;

/// Why the store cannot be used. Messages name the file and what was being done.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The file cannot be opened or created (missing directory, permissions, another
    /// mesoswarm holds it, or it is not a redb file).
    #[error("cannot open the store {path}: {source}")]
    Open {
        /// The file.
        path: PathBuf,
        /// What redb said.
        source: redb::DatabaseError,
    },
    /// Another process (another mesoswarm?) has the file open.
    #[error(
        "the store {path} is in use by another process (is another mesoswarm running with it?)"
    )]
    InUse {
        /// The file.
        path: PathBuf,
    },
    /// A read or write failed.
    #[error("store {location}: cannot {action}: {source}")]
    Database {
        /// The file, or `(in memory)`.
        location: String,
        /// What was being done.
        action: &'static str,
        /// What redb said.
        source: Box<redb::Error>,
    },
    /// A stored value cannot be understood.
    #[error("store {location}: {key} is corrupt: {reason}")]
    Corrupt {
        /// The file, or `(in memory)`.
        location: String,
        /// The key.
        key: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The store was written by a newer mesoswarm.
    #[error(
        "store {location} has layout version {found}, newer than this mesoswarm's {FORMAT_VERSION}: \
         upgrade mesoswarm or point it at another file"
    )]
    NewerFormat {
        /// The file.
        location: String,
        /// The version found.
        found: u64,
    },
}

/// The durable store. Blocking: use it off the async executor.
pub struct Store {
    db: Database,
    location: String,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("location", &self.location)
            .finish()
    }
}

impl Store {
    /// Opens (or creates) the store file at `path`. Its integrity is checked on open, so a
    /// damaged file is an error rather than a crash later.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let db = Database::builder()
            .set_check_integrity_on_open(true)
            .create(path)
            .map_err(|source| match source {
                redb::DatabaseError::DatabaseAlreadyOpen => StoreError::InUse {
                    path: path.to_path_buf(),
                },
                source => StoreError::Open {
                    path: path.to_path_buf(),
                    source,
                },
            })?;
        Store::init(db, path.display().to_string())
    }

    /// A store that lives in memory only (tests, `mesoswarm dev`): the same code, nothing
    /// survives the process.
    pub fn in_memory() -> Result<Store, StoreError> {
        let location = "(in memory)".to_string();
        let db = Database::builder()
            .create_with_backend(redb::backends::InMemoryBackend::new())
            .map_err(|e| StoreError::Database {
                location: location.clone(),
                action: "create it",
                source: Box::new(e.into()),
            })?;
        Store::init(db, location)
    }

    /// Where the store lives (a path, or `(in memory)`), for logs.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// Creates the tables and checks the layout version.
    fn init(db: Database, location: String) -> Result<Store, StoreError> {
        let store = Store { db, location };
        let tx = store
            .db
            .begin_write()
            .map_err(store.fail("begin a write"))?;
        {
            let mut meta = tx.open_table(META).map_err(store.fail("open table meta"))?;
            let found = meta
                .get(FORMAT_KEY)
                .map_err(store.fail("read the layout version"))?
                .map(|v| v.value());
            match found {
                Some(v) if v > FORMAT_VERSION => {
                    return Err(StoreError::NewerFormat {
                        location: store.location.clone(),
                        found: v,
                    })
                }
                Some(_) => {}
                None => {
                    meta.insert(FORMAT_KEY, FORMAT_VERSION)
                        .map_err(store.fail("write the layout version"))?;
                }
            }
            tx.open_table(FRAMEWORK)
                .map_err(store.fail("open table framework"))?;
            tx.open_table(CONTAINERS)
                .map_err(store.fail("open table containers"))?;
        }
        tx.commit().map_err(store.fail("commit"))?;
        Ok(store)
    }

    /// Everything stored, as records for `Manager::restore`: the framework id (if any),
    /// then every container in id order.
    pub fn load(&self) -> Result<Vec<Record>, StoreError> {
        let tx = self.db.begin_read().map_err(self.fail("begin a read"))?;
        let mut records = Vec::new();
        let framework = tx
            .open_table(FRAMEWORK)
            .map_err(self.fail("open table framework"))?;
        if let Some(id) = framework
            .get(FRAMEWORK_ID_KEY)
            .map_err(self.fail("read the framework id"))?
        {
            records.push(Record::FrameworkId(Some(id.value().to_string())));
        }
        let containers = tx
            .open_table(CONTAINERS)
            .map_err(self.fail("open table containers"))?;
        for entry in containers.iter().map_err(self.fail("list containers"))? {
            let (key, value) = entry.map_err(self.fail("read a container"))?;
            let key = key.value();
            let container: Container =
                serde_json::from_slice(value.value()).map_err(|e| self.corrupt(key, e))?;
            if ContainerId::parse_hex(key) != Some(container.id) {
                return Err(self.corrupt(key, "the key is not the id of the container stored"));
            }
            records.push(Record::Container(Box::new(container)));
        }
        Ok(records)
    }

    /// Applies `records` in order in one transaction, durable when this returns. A
    /// `ContainerRemoved` deletes the key; `FrameworkId(None)` deletes the framework id.
    pub fn write_batch(&self, records: &[Record]) -> Result<(), StoreError> {
        let tx = self.db.begin_write().map_err(self.fail("begin a write"))?;
        {
            let mut framework = tx
                .open_table(FRAMEWORK)
                .map_err(self.fail("open table framework"))?;
            let mut containers = tx
                .open_table(CONTAINERS)
                .map_err(self.fail("open table containers"))?;
            for record in records {
                match record {
                    Record::FrameworkId(Some(id)) => {
                        framework
                            .insert(FRAMEWORK_ID_KEY, id.as_str())
                            .map_err(self.fail("write the framework id"))?;
                    }
                    Record::FrameworkId(None) => {
                        framework
                            .remove(FRAMEWORK_ID_KEY)
                            .map_err(self.fail("remove the framework id"))?;
                    }
                    Record::Container(c) => {
                        let json = serde_json::to_vec(c).map_err(|e| StoreError::Corrupt {
                            location: self.location.clone(),
                            key: c.id.to_hex(),
                            reason: format!("cannot be written as JSON: {e}"),
                        })?;
                        containers
                            .insert(c.id.to_hex().as_str(), json.as_slice())
                            .map_err(self.fail("write a container"))?;
                    }
                    Record::ContainerRemoved(id) => {
                        containers
                            .remove(id.to_hex().as_str())
                            .map_err(self.fail("remove a container"))?;
                    }
                }
            }
        }
        tx.commit().map_err(self.fail("commit"))?;
        Ok(())
    }

    /// A `map_err` adapter naming the action.
    fn fail<E: Into<redb::Error>>(&self, action: &'static str) -> impl Fn(E) -> StoreError + '_ {
        move |e| StoreError::Database {
            location: self.location.clone(),
            action,
            source: Box::new(e.into()),
        }
    }

    fn corrupt(&self, key: &str, reason: impl std::fmt::Display) -> StoreError {
        StoreError::Corrupt {
            location: self.location.clone(),
            key: format!("container {key}"),
            reason: reason.to_string(),
        }
    }
}

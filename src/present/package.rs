//! GitLab's package entities: a package (`GET /projects/:id/packages`), its files
//! (`…/packages/:id/package_files`), and the file an upload made (`PUT …/generic/…
//! ?select=package_file`, which GitLab answers with the stored record itself).

use serde::Serialize;

use crate::model::package::{PACKAGE_TYPE, PackageDoc, PackageFile};
use crate::time::Timestamp;

#[derive(Debug, Serialize)]
pub struct PackageEntity {
    pub id: u64,
    pub name: String,
    pub version: String,
    pub package_type: &'static str,
    pub status: &'static str,
    #[serde(rename = "_links")]
    pub links: PackageLinks,
    pub created_at: Option<Timestamp>,
    pub last_downloaded_at: Option<String>,
    pub tags: Vec<String>,
}

/// A package in a group's list: the package, and the project it is in.
#[derive(Debug, Serialize)]
pub struct GroupPackageEntity {
    #[serde(flatten)]
    pub package: PackageEntity,
    pub project_id: u64,
    pub project_path: String,
}

#[derive(Debug, Serialize)]
pub struct PackageLinks {
    pub web_path: String,
    pub delete_api_path: String,
}

#[derive(Debug, Serialize)]
pub struct PackageFileEntity {
    pub id: u64,
    pub package_id: u64,
    pub created_at: Timestamp,
    pub file_name: String,
    pub size: u64,
    pub file_md5: Option<String>,
    pub file_sha1: Option<String>,
    pub file_sha256: String,
}

/// The stored package file, as `?select=package_file` shows it.
#[derive(Debug, Serialize)]
pub struct UploadedFileEntity {
    pub id: u64,
    pub package_id: u64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub size: u64,
    /// GitLab's 1 is local storage, 2 object storage.
    pub file_store: u8,
    pub file_md5: Option<String>,
    pub file_sha1: Option<String>,
    pub file_name: String,
    pub file: UploadedFileUrl,
    pub file_sha256: String,
    pub status: &'static str,
}

#[derive(Debug, Serialize)]
pub struct UploadedFileUrl {
    pub url: String,
}

/// Where a project's packages are: `web_path` is under the project's path
/// (`/group/proj`), `api_base` its API (`<base>/api/v4/projects/<id>`).
pub struct PackagePlace<'a> {
    pub project_path: &'a str,
    pub api_base: &'a str,
}

pub fn package(place: &PackagePlace<'_>, doc: &PackageDoc) -> PackageEntity {
    PackageEntity {
        id: doc.id,
        name: doc.name.clone(),
        version: doc.version.clone(),
        package_type: PACKAGE_TYPE,
        status: doc.status.as_str(),
        links: PackageLinks {
            web_path: format!("/{}/-/packages/{}", place.project_path, doc.id),
            delete_api_path: format!("{}/packages/{}", place.api_base, doc.id),
        },
        created_at: doc.created_at(),
        last_downloaded_at: None,
        tags: Vec::new(),
    }
}

pub fn package_file(doc: &PackageDoc, file: &PackageFile) -> PackageFileEntity {
    PackageFileEntity {
        id: file.id,
        package_id: doc.id,
        created_at: file.created_at,
        file_name: file.file_name.clone(),
        size: file.size,
        file_md5: file.file_md5.clone(),
        file_sha1: file.file_sha1.clone(),
        file_sha256: file.file_sha256.clone(),
    }
}

pub fn uploaded_file(doc: &PackageDoc, file: &PackageFile) -> UploadedFileEntity {
    UploadedFileEntity {
        id: file.id,
        package_id: doc.id,
        created_at: file.created_at,
        updated_at: file.created_at,
        size: file.size,
        file_store: match file.location {
            crate::model::package::Location::Repository { .. } => 1,
            crate::model::package::Location::S3 { .. } => 2,
        },
        file_md5: file.file_md5.clone(),
        file_sha1: file.file_sha1.clone(),
        file_name: file.file_name.clone(),
        file: UploadedFileUrl {
            url: format!("/{}/{}/{}", doc.name, doc.version, file.file_name),
        },
        file_sha256: file.file_sha256.clone(),
        // A package file's own status in GitLab, not its package's.
        status: "default",
    }
}

// What only the DFS endpoint of an ADLS Gen2 (hierarchical namespace) account does: atomic directory
// delete and POSIX ACLs. Azurite has no DFS endpoint, so AzureLake falls back to blob-by-blob work there
// and ACLs are refused with a clear message.

import type { TokenCredential } from "@azure/core-auth";
import { DataLakeServiceClient, type PathAccessControlItem, StorageSharedKeyCredential } from "@azure/storage-file-datalake";
import { dfsEndpointOf } from "./azure-connection.ts";

export interface AzureDfsOptions {
  /** The account's blob endpoint; the DFS endpoint is derived from it (`.blob.` → `.dfs.`). */
  blobEndpoint: string;
  hierarchicalNamespace: boolean;
  credential?: TokenCredential | { accountName: string; accountKey: string };
}

export class AzureDfs {
  readonly hierarchicalNamespace: boolean;
  readonly endpoint: string;
  private client?: DataLakeServiceClient;

  constructor(private readonly options: AzureDfsOptions) {
    this.hierarchicalNamespace = options.hierarchicalNamespace;
    this.endpoint = dfsEndpointOf(options.blobEndpoint.replace(/\?.*$/, "")).replace(/\/+$/, "");
  }

  /** The DataLake service client (created on first use). */
  service(): DataLakeServiceClient {
    if (!this.hierarchicalNamespace) {
      throw new Error(
        `${this.endpoint}: directory operations and ACLs need an ADLS Gen2 account (hierarchical namespace); ` +
          `this lake is on a flat blob account (Azurite?)`,
      );
    }
    if (!this.client) {
      const c = this.options.credential;
      const credential = c && "accountKey" in c ? new StorageSharedKeyCredential(c.accountName, c.accountKey) : c;
      this.client = new DataLakeServiceClient(this.endpoint, credential);
    }
    return this.client;
  }

  /** Delete a directory and everything under it in one operation. */
  async deleteDirectory(fileSystem: string, directory: string): Promise<void> {
    await this.service().getFileSystemClient(fileSystem).getDirectoryClient(directory).deleteIfExists(true);
  }

  /** Set POSIX ACLs on a directory and everything under it (e.g. read access to gold for a reporting group). */
  async setAccessControl(fileSystem: string, directory: string, acl: PathAccessControlItem[]): Promise<void> {
    await this.service().getFileSystemClient(fileSystem).getDirectoryClient(directory).setAccessControlRecursive(acl);
  }
}

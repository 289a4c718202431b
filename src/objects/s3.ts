/**
 * Objects under s3://bucket/prefix, read with SigV4-signed GETs (aws4fetch). Credentials, region
 * and endpoint come from the usual AWS places: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY /
 * AWS_SESSION_TOKEN, else the AWS_PROFILE (default "default") section of ~/.aws/credentials;
 * AWS_REGION or AWS_DEFAULT_REGION (default us-east-1); AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL
 * for an S3-compatible server (path-style addressing). Without credentials, requests go unsigned,
 * which reads public buckets.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AwsClient } from 'aws4fetch';
import { fetchObject } from './fetch.js';
import { StoreError, type ByteRange, type ObjectStore } from './store.js';

interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

function profileCredentials(): Credentials | undefined {
  const file = process.env.AWS_SHARED_CREDENTIALS_FILE ?? path.join(os.homedir(), '.aws', 'credentials');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const profile = process.env.AWS_PROFILE ?? 'default';
  const values: Record<string, string> = {};
  let section = '';
  for (const line of text.split(/\r?\n/)) {
    const header = /^\s*\[([^\]]+)\]\s*$/.exec(line);
    if (header) section = header[1].trim();
    else if (section === profile) {
      const kv = /^\s*([A-Za-z_]+)\s*=\s*(.*?)\s*$/.exec(line);
      if (kv) values[kv[1].toLowerCase()] = kv[2];
    }
  }
  if (!values.aws_access_key_id || !values.aws_secret_access_key) return undefined;
  return {
    accessKeyId: values.aws_access_key_id,
    secretAccessKey: values.aws_secret_access_key,
    sessionToken: values.aws_session_token,
  };
}

function credentials(): Credentials | undefined {
  const { AWS_ACCESS_KEY_ID: id, AWS_SECRET_ACCESS_KEY: secret, AWS_SESSION_TOKEN: session } = process.env;
  if (id && secret) return { accessKeyId: id, secretAccessKey: secret, sessionToken: session || undefined };
  return profileCredentials();
}

export class S3Store implements ObjectStore {
  readonly root: string;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly base: string;
  private readonly client?: AwsClient;

  constructor(root: string) {
    const m = /^s3:\/\/([^/]+)\/?(.*)$/i.exec(root);
    if (!m) throw new StoreError(`${root}: an S3 location is s3://<bucket>/<prefix>`, false);
    this.root = root.replace(/\/+$/, '');
    this.bucket = m[1];
    this.prefix = m[2].replace(/\/+$/, '');
    const region = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
    const endpoint = process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL;
    this.base = endpoint
      ? `${endpoint.replace(/\/+$/, '')}/${this.bucket}`
      : `https://${this.bucket}.s3.${region}.amazonaws.com`;
    const creds = credentials();
    if (creds) this.client = new AwsClient({ ...creds, service: 's3', region, retries: 0 });
  }

  where(key: string): string {
    return `${this.root}/${key}`;
  }

  get(key: string): Promise<Uint8Array | undefined> {
    return this.getRange(key);
  }

  getRange(key: string, range?: ByteRange): Promise<Uint8Array | undefined> {
    const objectKey = this.prefix ? `${this.prefix}/${key}` : key;
    const url = `${this.base}/${objectKey.split('/').map(encodeURIComponent).join('/')}`;
    return fetchObject(
      this.where(key),
      (headers) => (this.client ? this.client.sign(url, { headers }) : new Request(url, { headers })),
      range,
    );
  }
}

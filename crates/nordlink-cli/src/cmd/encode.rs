//! `nordlink encode`.

use std::path::Path;

use anyhow::{Context as _, bail};
use nordlink::clk::clkhash::{ClkhashEncoder, ClkhashSchema, is_clkhash_schema};
use nordlink::clk::{CLK_CONSTRUCTION, Encoder, Schema, schema_fingerprint};
use nordlink::keyfile::{PermissionCheck, read_secret_file};
use nordlink_io::encode::{
    AnyEncoder, EncodeSpec, EncodedBatch, encode_batch, rejects_batch, rejects_schema,
};
use nordlink_io::{
    ClkJsonWriter, Format, ReadOptions, TableReader, WriteOptions, for_each_ordered,
};

use super::{Outputs, ensure_distinct, key};
use crate::flags::{EncodeArgs, KeyArgs};

pub(super) fn run(args: &EncodeArgs) -> anyhow::Result<()> {
    let input = args.input.input.as_path();
    let outputs: Vec<&Path> =
        [Some(args.output.as_path()), args.rejects.as_deref(), args.anonlink_json.as_deref()]
            .into_iter()
            .flatten()
            .collect();
    ensure_distinct(input, &outputs)?;
    let schema_bytes =
        std::fs::read(&args.schema).with_context(|| args.schema.display().to_string())?;
    let schema_text = std::str::from_utf8(&schema_bytes)
        .with_context(|| format!("{}: not UTF-8", args.schema.display()))?;
    let json: Option<serde_json::Value> = serde_json::from_str(schema_text).ok();
    let mut provenance = vec![
        ("nordlink.version".to_owned(), env!("CARGO_PKG_VERSION").to_owned()),
        ("nordlink.schema_sha256".to_owned(), schema_fingerprint(&schema_bytes)),
    ];
    let encoder = if json.as_ref().is_some_and(is_clkhash_schema) {
        let Some(secret_path) = &args.secret else {
            bail!("{}: a clkhash schema needs --secret FILE", args.schema.display());
        };
        let schema = ClkhashSchema::from_json(schema_text)
            .with_context(|| args.schema.display().to_string())?;
        if let Some(n) = schema.ignored_xor_folds() {
            eprintln!(
                "nordlink: note: clkConfig.xorFolds = {n} is ignored, as clkhash 0.18.3 ignores it \
                 (it reads xor_folds); filters stay bit-identical to clkhash"
            );
        }
        let check = if args.insecure_allow_readable_key {
            PermissionCheck::InsecureAllowReadable
        } else {
            PermissionCheck::Enforce
        };
        let secret = read_secret_file(secret_path, check)
            .with_context(|| secret_path.display().to_string())?;
        provenance.push(("nordlink.construction".into(), "clkhash-0.18.3".into()));
        provenance.push(("nordlink.bits".into(), schema.len_bits().to_string()));
        AnyEncoder::Clkhash(ClkhashEncoder::new(schema, &secret))
    } else {
        let Some(key_path) = &args.key else {
            bail!("{}: a nordlink schema needs --key FILE", args.schema.display());
        };
        let schema =
            Schema::parse(schema_text).with_context(|| args.schema.display().to_string())?;
        let master = key::load(&KeyArgs {
            key: key_path.clone(),
            insecure_allow_readable_key: args.insecure_allow_readable_key,
        })?;
        provenance.push(("nordlink.construction".into(), CLK_CONSTRUCTION.into()));
        provenance.push(("nordlink.key_id".into(), master.id().to_string()));
        provenance.push(("nordlink.context".into(), schema.context.clone()));
        provenance.push(("nordlink.bits".into(), schema.output_bits().to_string()));
        provenance.push(("nordlink.hardening".into(), format!("{:?}", schema.hardening)));
        AnyEncoder::Native(Encoder::new(schema, &master))
    };

    let reader =
        TableReader::open(input, ReadOptions { batch_size: args.input.batch_size as usize })?;
    let binary = Format::from_path(&args.output)? == Format::Parquet;
    let spec = EncodeSpec::resolve(&encoder, &reader, args.id_column.as_deref(), binary)?;
    let schema = spec.output_schema(&reader.schema());
    let clk_column = schema.index_of("clk").unwrap_or_default();
    let options = WriteOptions {
        metadata: provenance,
        random_columns: vec!["clk".into()],
        ..WriteOptions::default()
    };
    let rejects = args.rejects.as_deref().map(|p| (p, rejects_schema()));
    let total_rows = reader.total_rows();
    let mut outputs =
        Outputs::create("encode", &args.output, schema.clone(), &options, rejects, total_rows)?;
    let mut json = args.anonlink_json.as_deref().map(ClkJsonWriter::create).transpose()?;
    let threads = rayon::current_num_threads();
    for_each_ordered(
        reader,
        2 * threads + 2,
        |batch| encode_batch(&batch, &encoder, &spec, &schema, input).map_err(anyhow::Error::from),
        |done: EncodedBatch| {
            if let Some(first) = done.rejects.first()
                && !outputs.takes_rejects()
            {
                bail!(
                    "{}: row {}: field {:?}: {}; pass --rejects FILE to set such rows aside; \
                         nothing was written",
                    input.display(),
                    first.row,
                    first.field,
                    first.problem
                );
            }
            if let Some(j) = &mut json {
                j.write(&done.output, clk_column)?;
            }
            let rejects = (!done.rejects.is_empty()).then(|| rejects_batch(&done.rejects));
            outputs.write(&done.output, rejects)
        },
    )?;
    if let Some(j) = json {
        j.finish()?;
    }
    outputs.finish()?;
    Ok(())
}

//! Reader for CTranslate2's `model.bin` (binary version 6).
//!
//! Only the index (names, shapes, types, file offsets) is kept in memory; tensor data is
//! read on demand, so converting a large model needs one tensor's worth of RAM, not the
//! whole model's.
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, ErrorKind, Read, Seek, SeekFrom};
use std::path::Path;

use super::f16::f16_to_f32;
use super::ModelError;

/// The only layout this reader understands; older files put other fields in the header.
const SUPPORTED_VERSION: u32 = 6;

/// Element type of a stored variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ct2Dtype {
    F32,
    I8,
    I16,
    I32,
    F16,
    Bf16,
}

impl Ct2Dtype {
    fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            0 => Self::F32,
            1 => Self::I8,
            2 => Self::I16,
            3 => Self::I32,
            4 => Self::F16,
            5 => Self::Bf16,
            _ => return None,
        })
    }

    fn size(self) -> usize {
        match self {
            Self::I8 => 1,
            Self::I16 | Self::F16 | Self::Bf16 => 2,
            Self::F32 | Self::I32 => 4,
        }
    }
}

/// One variable's place in the file.
#[derive(Debug, Clone)]
pub struct Variable {
    /// Row-major shape, outermost first (as in PyTorch).
    pub dims: Vec<usize>,
    pub dtype: Ct2Dtype,
    offset: u64,
    byte_len: usize,
}

/// An opened `model.bin`: its spec name and variable index.
pub struct Ct2Model {
    pub spec: String,
    variables: BTreeMap<String, Variable>,
    reader: BufReader<File>,
}

impl Ct2Model {
    pub fn open(path: &Path) -> Result<Self, ModelError> {
        let file = File::open(path)?;
        let file_len = file.metadata()?.len();
        let mut reader = BufReader::new(file);
        let (spec, variables) = read_index(&mut reader, file_len).map_err(|e| match e {
            ModelError::Io(io) if io.kind() == ErrorKind::UnexpectedEof => {
                ModelError::BadCt2("model.bin is truncated".into())
            }
            other => other,
        })?;
        Ok(Self {
            spec,
            variables,
            reader,
        })
    }

    pub fn get(&self, name: &str) -> Option<&Variable> {
        self.variables.get(name)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.variables.keys().map(String::as_str)
    }

    /// Look up a variable that the conversion cannot do without.
    pub fn require(&self, name: &str) -> Result<&Variable, ModelError> {
        self.get(name)
            .ok_or_else(|| ModelError::BadCt2(format!("missing variable {name}")))
    }

    /// A variable's values widened to `f32`, with its shape.
    pub fn read_f32(&mut self, name: &str) -> Result<(Vec<usize>, Vec<f32>), ModelError> {
        let var = self.require(name)?.clone();
        let mut bytes = vec![0u8; var.byte_len];
        self.reader.seek(SeekFrom::Start(var.offset))?;
        self.reader.read_exact(&mut bytes)?;
        let values = match var.dtype {
            Ct2Dtype::F32 => bytes
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
            Ct2Dtype::F16 => bytes
                .chunks_exact(2)
                .map(|b| f16_to_f32(u16::from_le_bytes([b[0], b[1]])))
                .collect(),
            // bf16 is the top half of an f32.
            Ct2Dtype::Bf16 => bytes
                .chunks_exact(2)
                .map(|b| f32::from_bits(u32::from(u16::from_le_bytes([b[0], b[1]])) << 16))
                .collect(),
            // Integer weights come with per-row scales (CTranslate2 int8/int16 quantization);
            // reconstructing them is not supported: convert the model with float16 weights.
            Ct2Dtype::I8 | Ct2Dtype::I16 | Ct2Dtype::I32 => {
                return Err(ModelError::BadCt2(format!(
                    "{name} is stored as {:?}; only float models (f32/f16/bf16) can be converted",
                    var.dtype
                )))
            }
        };
        Ok((var.dims, values))
    }

    /// A scalar integer attribute (e.g. `encoder/num_heads`), if present and integral.
    pub fn read_scalar_int(&mut self, name: &str) -> Result<Option<i64>, ModelError> {
        let Some(var) = self.get(name).cloned() else {
            return Ok(None);
        };
        if !var.dims.is_empty() {
            return Err(ModelError::BadCt2(format!(
                "{name} should be a scalar, has shape {:?}",
                var.dims
            )));
        }
        let mut bytes = vec![0u8; var.byte_len];
        self.reader.seek(SeekFrom::Start(var.offset))?;
        self.reader.read_exact(&mut bytes)?;
        Ok(match var.dtype {
            Ct2Dtype::I8 => Some(i64::from(bytes[0] as i8)),
            Ct2Dtype::I16 => Some(i64::from(i16::from_le_bytes([bytes[0], bytes[1]]))),
            Ct2Dtype::I32 => Some(i64::from(i32::from_le_bytes([
                bytes[0], bytes[1], bytes[2], bytes[3],
            ]))),
            _ => None,
        })
    }
}

fn read_index(
    r: &mut BufReader<File>,
    file_len: u64,
) -> Result<(String, BTreeMap<String, Variable>), ModelError> {
    let version = read_u32(r)?;
    if version != SUPPORTED_VERSION {
        return Err(ModelError::BadCt2(format!(
            "unsupported model.bin version {version} (expected {SUPPORTED_VERSION})"
        )));
    }
    let spec = read_string(r)?;
    let _revision = read_u32(r)?;
    let count = read_u32(r)?;
    let mut variables = BTreeMap::new();
    for _ in 0..count {
        let name = read_string(r)?;
        let rank = read_u8(r)?;
        let mut dims = Vec::with_capacity(usize::from(rank));
        for _ in 0..rank {
            dims.push(read_u32(r)? as usize);
        }
        let dtype_code = read_u8(r)?;
        let dtype = Ct2Dtype::from_code(dtype_code).ok_or_else(|| {
            ModelError::BadCt2(format!("{name}: unknown dtype code {dtype_code}"))
        })?;
        let byte_len = read_u32(r)? as usize;
        let elements = dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
        if elements.and_then(|n| n.checked_mul(dtype.size())) != Some(byte_len) {
            return Err(ModelError::BadCt2(format!(
                "{name}: {byte_len} bytes do not match shape {dims:?} of {dtype:?}"
            )));
        }
        let offset = r.stream_position()?;
        if offset + byte_len as u64 > file_len {
            return Err(ModelError::BadCt2(format!(
                "{name}: data runs past the end of the file"
            )));
        }
        r.seek_relative(byte_len as i64)?;
        variables.insert(
            name,
            Variable {
                dims,
                dtype,
                offset,
                byte_len,
            },
        );
    }
    // Aliases (e.g. the output projection sharing the token embedding) follow; the converter
    // never needs them, but reading them checks the file is whole.
    let aliases = read_u32(r)?;
    for _ in 0..aliases {
        read_string(r)?;
        read_string(r)?;
    }
    Ok((spec, variables))
}

fn read_u8(r: &mut impl Read) -> Result<u8, ModelError> {
    let mut b = [0u8; 1];
    r.read_exact(&mut b)?;
    Ok(b[0])
}

fn read_u32(r: &mut impl Read) -> Result<u32, ModelError> {
    let mut b = [0u8; 4];
    r.read_exact(&mut b)?;
    Ok(u32::from_le_bytes(b))
}

/// A string: u16 length including the trailing NUL, then the bytes.
fn read_string(r: &mut impl Read) -> Result<String, ModelError> {
    let mut len = [0u8; 2];
    r.read_exact(&mut len)?;
    let len = usize::from(u16::from_le_bytes(len));
    let mut bytes = vec![0u8; len];
    r.read_exact(&mut bytes)?;
    if bytes.pop() != Some(0) {
        return Err(ModelError::BadCt2("string without NUL terminator".into()));
    }
    String::from_utf8(bytes).map_err(|_| ModelError::BadCt2("name is not UTF-8".into()))
}

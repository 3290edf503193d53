//! CodeSelf's Rust harness runtime (docs/languages.md): a crate of its own, built once per
//! machine by trusted code, so the candidate's macros and items cannot reach it. It holds no
//! expected value: it encodes what the candidate's function returned.
//!
//! Protocol (fd 3 in, fd 4 out; 4-byte big-endian length + body): the import answer
//! {"ok":true,"n":N}, then for each step {"t":I,"n":N} one answer {"values":[ENCODED],"n":N} or
//! {"error":{"type":T,"message":M},"n":N}. Values use the closed encoding of codec.py.
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::fs::File;
use std::io::{Read, Write};
use std::os::unix::io::FromRawFd;

const MAX_BYTES: usize = 16 << 20;

pub struct Out(pub String);

impl Out {
    fn put(&mut self, text: &str) {
        self.0.push_str(text);
        if self.0.len() > MAX_BYTES {
            panic!("codeself: value too large to return");
        }
    }
}

pub trait Encode {
    fn encode(&self, out: &mut Out);
}

fn put_str(out: &mut Out, s: &str) {
    let mut text = String::with_capacity(s.len() + 2);
    text.push('"');
    for unit in s.encode_utf16() {
        match unit {
            0x22 => text.push_str("\\\""),
            0x5c => text.push_str("\\\\"),
            0x20..=0x7e => text.push(unit as u8 as char),
            _ => text.push_str(&format!("\\u{:04x}", unit)),
        }
    }
    text.push('"');
    out.put(&text);
}

fn put_float(out: &mut Out, x: f64) {
    if x.is_nan() {
        out.put("[\"f\",\"nan\"]");
    } else if x.is_infinite() {
        out.put(if x > 0.0 { "[\"f\",\"inf\"]" } else { "[\"f\",\"-inf\"]" });
    } else {
        out.put(&format!("[\"f\",\"{:?}\"]", x)); // Debug of f64: shortest text that round-trips
    }
}

fn put_int(out: &mut Out, value: i128) {
    if value >= -(1i128 << 63) && value < (1i128 << 63) {
        out.put(&value.to_string());
    } else if value < 0 {
        out.put(&format!("[\"i\",\"-{:x}\"]", -(value as i128)));
    } else {
        out.put(&format!("[\"i\",\"{:x}\"]", value));
    }
}

macro_rules! signed {
    ($($t:ty),*) => {$(impl Encode for $t { fn encode(&self, out: &mut Out) { put_int(out, *self as i128) } })*};
}
signed!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize);

impl Encode for i128 {
    fn encode(&self, out: &mut Out) {
        put_int(out, *self)
    }
}
impl Encode for u128 {
    fn encode(&self, out: &mut Out) {
        if *self < (1u128 << 63) { put_int(out, *self as i128) } else { out.put(&format!("[\"i\",\"{:x}\"]", self)) }
    }
}
impl Encode for f64 {
    fn encode(&self, out: &mut Out) {
        put_float(out, *self)
    }
}
impl Encode for f32 {
    fn encode(&self, out: &mut Out) {
        put_float(out, *self as f64)
    }
}
impl Encode for bool {
    fn encode(&self, out: &mut Out) {
        out.put(if *self { "true" } else { "false" })
    }
}
impl Encode for char {
    fn encode(&self, out: &mut Out) {
        put_str(out, &self.to_string())
    }
}
impl Encode for str {
    fn encode(&self, out: &mut Out) {
        put_str(out, self)
    }
}
impl Encode for String {
    fn encode(&self, out: &mut Out) {
        put_str(out, self)
    }
}
impl Encode for () {
    fn encode(&self, out: &mut Out) {
        out.put("null")
    }
}
impl<T: Encode + ?Sized> Encode for &T {
    fn encode(&self, out: &mut Out) {
        (**self).encode(out)
    }
}
impl<T: Encode + ?Sized> Encode for Box<T> {
    fn encode(&self, out: &mut Out) {
        (**self).encode(out)
    }
}
impl<T: Encode> Encode for Option<T> {
    fn encode(&self, out: &mut Out) {
        match self {
            Some(value) => value.encode(out),
            None => out.put("null"),
        }
    }
}

fn put_items<'a, T: Encode + 'a>(out: &mut Out, tag: &str, items: impl Iterator<Item = &'a T>) {
    out.put("[\"");
    out.put(tag);
    out.put("\",[");
    for (index, item) in items.enumerate() {
        if index > 0 {
            out.put(",");
        }
        item.encode(out);
    }
    out.put("]]");
}

impl<T: Encode> Encode for [T] {
    fn encode(&self, out: &mut Out) {
        put_items(out, "l", self.iter())
    }
}
impl<T: Encode> Encode for Vec<T> {
    fn encode(&self, out: &mut Out) {
        put_items(out, "l", self.iter())
    }
}
impl<T: Encode> Encode for VecDeque<T> {
    fn encode(&self, out: &mut Out) {
        put_items(out, "l", self.iter())
    }
}
impl<T: Encode, const N: usize> Encode for [T; N] {
    fn encode(&self, out: &mut Out) {
        put_items(out, "l", self.iter())
    }
}
impl<T: Encode, S> Encode for HashSet<T, S> {
    fn encode(&self, out: &mut Out) {
        put_items(out, "s", self.iter())
    }
}
impl<T: Encode> Encode for BTreeSet<T> {
    fn encode(&self, out: &mut Out) {
        put_items(out, "s", self.iter())
    }
}

fn put_pairs<'a, K: Encode + 'a, V: Encode + 'a>(out: &mut Out, pairs: impl Iterator<Item = (&'a K, &'a V)>) {
    out.put("[\"d\",[");
    for (index, (key, value)) in pairs.enumerate() {
        out.put(if index > 0 { ",[" } else { "[" });
        key.encode(out);
        out.put(",");
        value.encode(out);
        out.put("]");
    }
    out.put("]]");
}

impl<K: Encode, V: Encode, S> Encode for HashMap<K, V, S> {
    fn encode(&self, out: &mut Out) {
        put_pairs(out, self.iter())
    }
}
impl<K: Encode, V: Encode> Encode for BTreeMap<K, V> {
    fn encode(&self, out: &mut Out) {
        put_pairs(out, self.iter())
    }
}

macro_rules! tuples {
    ($(($($name:ident $index:tt),+)),*) => {$(
        impl<$($name: Encode),+> Encode for ($($name,)+) {
            fn encode(&self, out: &mut Out) {
                out.put("[\"t\",[");
                let mut first = true;
                $(
                    if !first { out.put(","); }
                    first = false;
                    self.$index.encode(out);
                )+
                let _ = first;
                out.put("]]");
            }
        }
    )*};
}
tuples!((A 0), (A 0, B 1), (A 0, B 1, C 2), (A 0, B 1, C 2, D 3), (A 0, B 1, C 2, D 3, E 4),
        (A 0, B 1, C 2, D 3, E 4, F 5), (A 0, B 1, C 2, D 3, E 4, F 5, G 6));

/// The encoded text of a value (what a test closure returns).
pub fn encode<T: Encode + ?Sized>(value: &T) -> String {
    let mut out = Out(String::new());
    value.encode(&mut out);
    out.0
}

fn answer(result: &mut File, body: &str, nonce: &str) {
    let text = format!("{},\"n\":\"{}\"}}", body, nonce);
    let mut frame = (text.len() as u32).to_be_bytes().to_vec();
    frame.extend_from_slice(text.as_bytes());
    if result.write_all(&frame).is_err() {
        std::process::exit(70);
    }
}

fn json_string(text: &str) -> String {
    let mut out = Out(String::new());
    let cut: String = text.chars().take(300).collect();
    put_str(&mut out, &cut);
    out.0
}

fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        text.to_string()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "a panic with a payload that is not text".to_string()
    }
}

/// The kind of a panic, from the standard library's own messages (for error categories).
fn panic_kind(message: &str) -> &'static str {
    if message.contains("index out of bounds") || message.contains("out of range for slice") {
        "IndexOutOfBounds"
    } else if message.contains("attempt to divide by zero") || message.contains("remainder with a divisor of zero") {
        "DivideByZero"
    } else if message.contains("overflow") {
        "ArithmeticOverflow"
    } else {
        "panic"
    }
}

/// Answer the import step, then one step per test; returns when the worker closes the pipe.
pub fn serve(calls: Vec<Box<dyn Fn() -> String>>) {
    let nonce = std::env::args().last().unwrap_or_default();
    // SAFETY: fds 3 and 4 are the control and result pipes the sandbox opened for this process
    let (mut control, mut result) = unsafe { (File::from_raw_fd(3), File::from_raw_fd(4)) };
    answer(&mut result, "{\"ok\":true", &nonce);
    loop {
        let mut head = [0u8; 4];
        if control.read_exact(&mut head).is_err() {
            return;
        }
        let size = u32::from_be_bytes(head) as usize;
        if size > 4096 {
            return;
        }
        let mut body = vec![0u8; size];
        if control.read_exact(&mut body).is_err() {
            return;
        }
        let step = String::from_utf8_lossy(&body).to_string();
        let index: usize = step.split("\"t\":").nth(1).and_then(|rest| {
            rest.split(|c: char| !c.is_ascii_digit()).next().and_then(|digits| digits.parse().ok())
        }).unwrap_or(usize::MAX);
        let step_nonce = step.split("\"n\":\"").nth(1).and_then(|rest| rest.split('"').next()).unwrap_or("").to_string();
        let outcome = match calls.get(index) {
            Some(call) => std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| call())),
            None => Err(Box::new("no such test") as Box<dyn std::any::Any + Send>),
        };
        let body = match outcome {
            Ok(encoded) => format!("{{\"values\":[{}]", encoded),
            Err(payload) => {
                let message = panic_text(&*payload);
                format!("{{\"error\":{{\"type\":\"{}\",\"message\":{}}}", panic_kind(&message), json_string(&message))
            }
        };
        answer(&mut result, &body, &step_nonce);
    }
}
